"""The CRMserver catalogue: products, categories, reference data and the station sync feed."""
