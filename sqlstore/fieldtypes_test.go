package sqlstore_test

import (
	"reflect"
	"testing"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/sqlstore"
)

// testFieldTypes: a template's field types and places are stored, exported
// and read back as given; a dry run names a type change and stores nothing.
func testFieldTypes(t *testing.T, newDSN func(testing.TB) string) {
	db := open(t, newDSN)
	seed(t, db)
	typed := fixture()
	tm := &typed.Templates[0]
	tm.Fields = map[string]ipass.FieldSpec{tm.Placeholders[0]: {Type: ipass.FieldInteger}}
	if len(tm.Placeholders) > 1 {
		tm.Fields[tm.Placeholders[1]] = ipass.FieldSpec{Type: ipass.FieldText, Place: ipass.PlaceDetail}
	}
	changes, err := db.ApplyChanges(ctx(t), &ipass.Tenants{Templates: []ipass.Template{*tm}}, sqlstore.ApplyOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	want := "fields " + tm.Placeholders[0] + " untyped → integer"
	if len(tm.Placeholders) > 1 {
		want += ", " + tm.Placeholders[1] + " untyped → text (detail)"
	}
	if len(changes) != 1 || changes[0].What != want {
		t.Fatalf("dry run changes %q, want one %q", changes, want)
	}
	stored, err := db.Template(ctx(t), tm.MerchantID, tm.Code)
	if err != nil || stored.Fields != nil {
		t.Fatalf("after a dry run: fields %v, %v; want none", stored.Fields, err)
	}
	if err := db.Apply(ctx(t), &ipass.Tenants{Templates: []ipass.Template{*tm}}); err != nil {
		t.Fatal(err)
	}
	stored, err = db.Template(ctx(t), tm.MerchantID, tm.Code)
	if err != nil || !reflect.DeepEqual(stored.Fields, tm.Fields) {
		t.Fatalf("stored fields %v, %v; want %v", stored.Fields, err, tm.Fields)
	}
	exported, err := db.Export(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range exported.Templates {
		if e.Code == tm.Code && e.MerchantID == tm.MerchantID && !reflect.DeepEqual(e.Fields, tm.Fields) {
			t.Fatalf("exported fields %v, want %v", e.Fields, tm.Fields)
		}
	}
	changes, err = db.ApplyChanges(ctx(t), &ipass.Tenants{Templates: []ipass.Template{*tm}}, sqlstore.ApplyOptions{DryRun: true})
	if err != nil || len(changes) != 1 || changes[0].What != "unchanged" {
		t.Fatalf("applying the same again: %q, %v; want unchanged", changes, err)
	}
}
