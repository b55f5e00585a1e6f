package tenants

import (
	"fmt"
	"io"
	"math"
	"os"

	"go.yaml.in/yaml/v3"
)

// MaxKeyFileBytes caps a publicKeyFile: a 4096-bit RSA key in PEM is under
// 1 KiB, so anything near the cap is not a key, and a path such as /dev/zero
// must not exhaust memory.
const MaxKeyFileBytes = 64 << 10

// MaxTenantsFileBytes caps the tenants file itself (Load).
const MaxTenantsFileBytes = 16 << 20

// maxStoredInt is the largest keyVersion or rateLimit: both are 32-bit
// INTEGER columns in PostgreSQL, so a larger value must be refused here,
// naming the entry, rather than fail in the driver.
const maxStoredInt = math.MaxInt32

// wholeNumber is an integer field of the file. Decoded straight into an int,
// yaml.v3 truncates 2.9 to 2; keeping what the scalar was lets the validator
// refuse anything but a whole number, naming entry and field.
type wholeNumber struct {
	value   int64
	problem string // why the scalar is not a whole number; "" when value holds it
}

func (n *wholeNumber) UnmarshalYAML(node *yaml.Node) error {
	*n = wholeNumber{}
	switch {
	case node.Kind != yaml.ScalarNode:
		n.problem = "must be a whole number"
	case node.ShortTag() != "!!int":
		n.problem = show(node.Value) + " is not a whole number"
	default:
		if err := node.Decode(&n.value); err != nil {
			n.problem = show(node.Value) + " is out of range"
		}
	}
	return nil
}

func (n wholeNumber) MarshalYAML() (any, error) { return n.value, nil }

// int returns the value; where int is 32 bits it clamps instead of
// wrapping, so the validator's range check still reports an oversized one.
func (n wholeNumber) int() int {
	if int64(int(n.value)) != n.value {
		return int(max(math.MinInt32, min(n.value, math.MaxInt32)))
	}
	return int(n.value)
}

// readCapped reads a file the tenants file names, refusing anything that is
// not a regular file (a FIFO would block, a device never ends) or is larger
// than limit bytes.
func readCapped(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return data, nil
}
