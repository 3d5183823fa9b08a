"""What an operator watches: Prometheus metrics, structured log lines, queue depths
(docs/operations.md). Sits above the areas: it reads their queue tables but no area imports it."""
