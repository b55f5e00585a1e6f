package sqlstore

// ClientCacheTTL is clientCacheTTL, for the external tests.
const ClientCacheTTL = clientCacheTTL
