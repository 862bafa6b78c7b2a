package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/atigip/atigip360/internal/atigip"
	"github.com/atigip/atigip360/internal/store/sqlite"
)

func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "atigip")
	defer os.RemoveAll(dir)
	db, err := sqlite.Open(ctx, filepath.Join(dir, "atigip.db"))
	if err != nil {
		panic(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		panic(err)
	}

	prisons := atigip.Of[*atigip.Prison](db)
	p := &atigip.Prison{Name: "Centre pénitentiaire de Lyon-Corbas", Type: "CP",
		Address:  atigip.Address{Commune: "69273", Departement: "69"},
		Location: atigip.Point{Lon: 4.9, Lat: 45.67}, Capacity: 690}
	if err := prisons.Create(ctx, p); err != nil {
		panic(err)
	}
	// A second editor still holding version 1 is refused.
	stale := *p
	p.Capacity = 700
	_ = prisons.Update(ctx, p)
	stale.Capacity = 650
	err = prisons.Update(ctx, &stale)
	fmt.Println(p.Version, atigip.ErrorCode(err))

	in69, total, _ := prisons.List(ctx, atigip.ListFilter{Departement: "69"})
	fmt.Println(total, in69[0].Capacity)
	changes, _ := db.Changes(ctx, 0, 10)
	for _, c := range changes {
		fmt.Println(c.Seq, c.Op, c.Kind, c.Version)
	}
	// Output:
	// 2 conflict
	// 1 700
	// 1 create prisons 1
	// 2 update prisons 2
}
