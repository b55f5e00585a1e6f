package gateway

import "errors"

// The protocol's operations and their paths (docs/api.md "Endpoints"), in
// one place for the server, the SDK and the CLI. Paths match exactly and
// case-sensitively.
const (
	OpCreatePass = "createPass"
	OpUpdatePass = "updatePass"
	OpQueryPass  = "queryPass"
	// OpQueryPassHistory and OpQueryRequestLog are this project's
	// extensions [ext].
	OpQueryPassHistory = "queryPassHistory"
	OpQueryRequestLog  = "queryRequestLog"
	// OpSandboxChaos [ext] arms the caller's own failures on purpose; only
	// a sandbox serves it (docs/sandbox.md), any other server answers
	// NO_INTERFACE_DEF.
	OpSandboxChaos = "sandboxChaos"
	// OpSandboxClock [ext] moves "now" for one of the caller's merchants;
	// a sandbox only, like OpSandboxChaos.
	OpSandboxClock = "sandboxClock"

	PathCreatePass       = "/api/open/alipay/v1/ipass/pass/manage/createPass"
	PathUpdatePass       = "/api/open/alipay/v1/ipass/pass/manage/updatePass"
	PathQueryPass        = "/api/open/alipay/v1/ipass/pass/manage/queryPass"
	PathQueryPassHistory = "/api/open/alipay/v1/ipass/pass/manage/queryPassHistory"
	PathQueryRequestLog  = "/api/open/alipay/v1/ipass/pass/manage/queryRequestLog"
	PathSandboxChaos     = "/api/open/alipay/v1/ipass/sandbox/chaos"
	PathSandboxClock     = "/api/open/alipay/v1/ipass/sandbox/clock"
)

// Operation is one endpoint of the API.
type Operation struct {
	Name string // e.g. "createPass"
	Path string // e.g. "/api/open/alipay/v1/ipass/pass/manage/createPass"
	Ext  bool   // an extension of this project, not in the official API
}

var operations = []Operation{
	{OpCreatePass, PathCreatePass, false},
	{OpUpdatePass, PathUpdatePass, false},
	{OpQueryPass, PathQueryPass, false},
	{OpQueryPassHistory, PathQueryPassHistory, true},
	{OpQueryRequestLog, PathQueryRequestLog, true},
	{OpSandboxChaos, PathSandboxChaos, true},
	{OpSandboxClock, PathSandboxClock, true},
}

// Operations lists every operation, the official ones first.
func Operations() []Operation { return append([]Operation(nil), operations...) }

// OperationByPath finds the operation served at path (exact match).
func OperationByPath(path string) (Operation, bool) {
	for _, op := range operations {
		if op.Path == path {
			return op, true
		}
	}
	return Operation{}, false
}

// OperationByName finds the operation called name.
func OperationByName(name string) (Operation, bool) {
	for _, op := range operations {
		if op.Name == name {
			return op, true
		}
	}
	return Operation{}, false
}

// MaxClientIDLen is the longest Client-Id: the rule is 1 to 64 visible ASCII
// characters (docs/api.md "Request headers").
const MaxClientIDLen = 64

// The ways a Client-Id breaks the rule; each reads after "Client-Id: ".
var (
	ErrClientIDEmpty   = errors.New("header is missing or empty")
	ErrClientIDTooLong = errors.New("longer than 64 characters")
	ErrClientIDChars   = errors.New("only visible ASCII characters are allowed")
)

// CheckClientID applies the Client-Id rule.
func CheckClientID(id string) error {
	switch {
	case id == "":
		return ErrClientIDEmpty
	case len(id) > MaxClientIDLen:
		return ErrClientIDTooLong
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return ErrClientIDChars
		}
	}
	return nil
}
