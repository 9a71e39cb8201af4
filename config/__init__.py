"""Settings and the Airtable base layout."""
