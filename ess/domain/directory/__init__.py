"""Directory: where accounts and passwords live (the embedded store, OpenLDAP or Active Directory), as a port."""
