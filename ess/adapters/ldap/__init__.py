"""The LDAP directory adapter (ldap3): OpenLDAP / generic LDAPv3 and Active Directory behind one Directory port."""
