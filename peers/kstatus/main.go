// Command kstatus reads Kubernetes objects as JSON (one object, or a List) on standard input and
// prints, for each, one JSON line {"name", "status", "message"} computed by
// sigs.k8s.io/cli-utils/pkg/kstatus/status.Compute: the verdict Flux's health checks give.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type verdict struct {
	Name    string `json:"name"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

func main() {
	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(err)
	}
	var object map[string]interface{}
	// apimachinery's decoder keeps integers int64, as unstructured accessors require (generation).
	if err := utiljson.Unmarshal(data, &object); err != nil {
		fail(err)
	}
	objects := []map[string]interface{}{object}
	if items, ok := object["items"].([]interface{}); ok {
		objects = objects[:0]
		for _, item := range items {
			objects = append(objects, item.(map[string]interface{}))
		}
	}
	out := json.NewEncoder(os.Stdout)
	for _, o := range objects {
		u := &unstructured.Unstructured{Object: o}
		result, err := status.Compute(u)
		if err != nil {
			fail(err)
		}
		if err := out.Encode(verdict{u.GetNamespace() + "/" + u.GetName(), result.Status.String(), result.Message}); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "kstatus:", err)
	os.Exit(1)
}
