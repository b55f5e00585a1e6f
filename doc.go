// Package ipass holds the domain of the ipass server: passes and their state
// machine, templates, clients and their keys, merchants, users, the result
// codes of the wire API, and the small storage interfaces the rest of the
// program is written against.
//
// It imports only the standard library. Storage (sqlstore), the wire protocol
// (gateway), the HTTP server (http) and the merchant SDK (client) depend on
// it, never the other way round.
package ipass
