"""Electronic receipts: the receipt emailed (or texted) to the customer the invoice names."""
