from minipos.cli import app

app()
