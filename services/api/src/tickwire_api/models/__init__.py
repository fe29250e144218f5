"""Response models of the API, one module per resource, each with an example for the OpenAPI
document (models.examples holds what several share)."""
