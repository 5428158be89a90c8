package oascheck

import (
	"fmt"
	"sort"

	"github.com/getkin/kin-openapi/openapi3"
)

// amend corrects the document where, read as OpenAPI 3.0 by a strict
// validator, it contradicts itself so that no answer could match it. Each
// correction keeps what the document means; none admits a shape the
// document does not describe.
//
//  1. Union wrappers. Unions are written as {"type":"object",
//     "properties":{}, "additionalProperties":false, "oneOf":[…]}: the
//     wrapper's additionalProperties:false admits only {}, so no branch
//     with a field could ever match. The wrapper's additionalProperties is
//     dropped; each branch keeps its own.
//  2. "Empty" auth branches (SourceConfigWebhookAuthEmpty,
//     DestinationConfigHTTPAuthEmpty, …) are {"nullable":true} alone, which
//     matches every value, so every auth object matched two branches of its
//     oneOf. They stand for "no auth" (x-docs-nullable): they now admit
//     null only.
//  3. Source.config and Destination.config are unions over every type's
//     config, each branch marked "Requires type to be X" (x-docs-type),
//     which OpenAPI 3.0 cannot say of a sibling field; a WEBHOOK config
//     matched the HTTP branch and a config without auth matched most
//     provider branches. Source and Destination become unions of one
//     variant per type, discriminated by "type", whose config is that
//     type's branch.
//  4. The auth of a config is a union over auth types (each branch marked
//     x-docs-type) chosen by the config's own auth_type, which OpenAPI 3.0
//     cannot say either; {"username","password"} matched BASIC_AUTH and
//     three providers. Such a config becomes "no auth" (auth_type and auth
//     absent or null) or one variant per auth type, discriminated by
//     auth_type, whose auth is that type's branch (or null).
//  5. "A string or a JSON object" is written anyOf [string, {"type":
//     "object","properties":{},"additionalProperties":false}], whose
//     object branch admits only {} (a transformation's request body or
//     parsed query, filter values, integration configs). Such an object
//     branch of an anyOf admits any object.
//  6. Request.rejection_cause is required and refers to the
//     RequestRejectionCause enum, which has no value for an accepted
//     request. OpenAPI 3.0 cannot mark a $ref nullable, and Hookdeck (like
//     the Go SDK's Request type) sends null there; the enum is made
//     nullable.
func amend(doc *openapi3.T) error {
	schemas := doc.Components.Schemas
	for _, ref := range schemas {
		s := ref.Value
		if s == nil {
			continue
		}
		// 1. Union wrappers.
		if (len(s.OneOf) > 0 || len(s.AnyOf) > 0) && len(s.Properties) == 0 &&
			s.AdditionalProperties.Has != nil && !*s.AdditionalProperties.Has {
			s.AdditionalProperties = openapi3.AdditionalProperties{}
		}
		// 2. "Empty" branches: nullable and nothing else.
		if s.Nullable && s.Extensions["x-docs-nullable"] == true && s.Type == nil &&
			len(s.Properties) == 0 && len(s.OneOf)+len(s.AnyOf)+len(s.AllOf) == 0 {
			s.Not = &openapi3.SchemaRef{Value: &openapi3.Schema{}}
		}
	}
	// 3. Config unions discriminated by the resource's type.
	for _, r := range []struct{ resource, union string }{{"Source", "SourceConfig"}, {"Destination", "DestinationConfig"}} {
		if err := discriminateByType(doc, r.resource, r.union); err != nil {
			return err
		}
	}
	// 4. Auth unions discriminated by the config's auth_type.
	names := make([]string, 0, len(schemas))
	for name := range schemas {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := discriminateAuth(doc, name); err != nil {
			return err
		}
	}
	// 5. Free-form object branches of anyOf.
	seen := map[*openapi3.Schema]bool{}
	for _, name := range names {
		freeObjects(schemas[name], seen)
	}
	// 6. rejection_cause may be null.
	rc, ok := schemas["RequestRejectionCause"]
	if !ok || rc.Value == nil {
		return fmt.Errorf("oascheck: document has no schema RequestRejectionCause")
	}
	rc.Value.Nullable = true
	return nil
}

// discriminateByType rewrites the resource schema, in place, as a oneOf of
// one variant per branch of its config union (named by the branch's
// x-docs-type), discriminated by the resource's "type". A resource schema
// without a config property (the legacy copy's relaxed ones) is left
// alone.
func discriminateByType(doc *openapi3.T, resource, union string) error {
	schemas := doc.Components.Schemas
	res, ok := schemas[resource]
	if !ok || res.Value == nil {
		return fmt.Errorf("oascheck: document has no schema %s", resource)
	}
	base := res.Value
	if _, ok := base.Properties["config"]; !ok {
		return nil
	}
	u, ok := schemas[union]
	if !ok || u.Value == nil || len(u.Value.OneOf) == 0 {
		return fmt.Errorf("oascheck: document has no union %s", union)
	}
	disc := &openapi3.Discriminator{PropertyName: "type", Mapping: map[string]openapi3.MappingRef{}}
	var variants openapi3.SchemaRefs
	for _, branch := range u.Value.OneOf {
		typ, _ := branch.Value.Extensions["x-docs-type"].(string)
		if typ == "" {
			return fmt.Errorf("oascheck: a branch of %s has no x-docs-type", union)
		}
		props := openapi3.Schemas{}
		for k, p := range base.Properties {
			props[k] = p
		}
		props["type"] = &openapi3.SchemaRef{Value: openapi3.NewStringSchema().WithEnum(typ)}
		props["config"] = branch
		name := resource + "Type" + typ
		v := &openapi3.Schema{Type: base.Type, Properties: props, Required: base.Required,
			AdditionalProperties: base.AdditionalProperties, Description: base.Description}
		ref := "#/components/schemas/" + name
		schemas[name] = &openapi3.SchemaRef{Value: v}
		variants = append(variants, &openapi3.SchemaRef{Ref: ref, Value: v})
		disc.Mapping[typ] = openapi3.MappingRef{Ref: ref}
	}
	sort.Slice(variants, func(i, j int) bool { return variants[i].Ref < variants[j].Ref })
	*base = openapi3.Schema{Type: base.Type, OneOf: variants, Discriminator: disc, Description: base.Description}
	return nil
}

// nullOnly admits null (or an absent property) and nothing else.
func nullOnly() *openapi3.SchemaRef {
	return &openapi3.SchemaRef{Value: &openapi3.Schema{Nullable: true, Not: &openapi3.SchemaRef{Value: &openapi3.Schema{}}}}
}

// discriminateAuth rewrites, in place, the named object schema if it has
// an auth_type property and an auth property whose union's branches carry
// x-docs-type: as oneOf "no auth" or a variant per auth type (see amend).
func discriminateAuth(doc *openapi3.T, name string) error {
	schemas := doc.Components.Schemas
	base := schemas[name].Value
	if base == nil || base.Properties["auth_type"] == nil || base.Properties["auth"] == nil {
		return nil
	}
	union := base.Properties["auth"].Value
	if union == nil || len(union.OneOf) == 0 {
		return nil
	}
	copyProps := func() openapi3.Schemas {
		props := openapi3.Schemas{}
		for k, p := range base.Properties {
			props[k] = p
		}
		return props
	}
	disc := &openapi3.Discriminator{PropertyName: "auth_type", Mapping: map[string]openapi3.MappingRef{}}
	var variants openapi3.SchemaRefs
	for _, branch := range union.OneOf {
		typ, _ := branch.Value.Extensions["x-docs-type"].(string)
		if typ == "" {
			continue // the "Empty" branch: null, admitted with every type
		}
		props := copyProps()
		props["auth_type"] = &openapi3.SchemaRef{Value: openapi3.NewStringSchema().WithEnum(typ)}
		props["auth"] = &openapi3.SchemaRef{Value: &openapi3.Schema{Nullable: true, AllOf: openapi3.SchemaRefs{branch}}}
		vname := name + "Auth" + typ
		v := &openapi3.Schema{Type: base.Type, Properties: props, Required: append(append([]string(nil), base.Required...), "auth_type"),
			AdditionalProperties: base.AdditionalProperties, Description: base.Description}
		ref := "#/components/schemas/" + vname
		schemas[vname] = &openapi3.SchemaRef{Value: v}
		variants = append(variants, &openapi3.SchemaRef{Ref: ref, Value: v})
		disc.Mapping[typ] = openapi3.MappingRef{Ref: ref}
	}
	if len(variants) == 0 {
		return nil
	}
	noAuth := copyProps()
	noAuth["auth_type"], noAuth["auth"] = nullOnly(), nullOnly()
	*base = openapi3.Schema{Type: base.Type, Description: base.Description, Extensions: base.Extensions, OneOf: openapi3.SchemaRefs{
		{Value: &openapi3.Schema{Type: base.Type, Properties: noAuth, Required: base.Required, AdditionalProperties: base.AdditionalProperties}},
		{Value: &openapi3.Schema{Type: base.Type, OneOf: variants, Discriminator: disc}},
	}}
	return nil
}

// freeObjects walks a schema and drops additionalProperties:false from the
// property-less object branches of every anyOf (see amend).
func freeObjects(ref *openapi3.SchemaRef, seen map[*openapi3.Schema]bool) {
	if ref == nil || ref.Value == nil || seen[ref.Value] {
		return
	}
	s := ref.Value
	seen[s] = true
	for _, b := range s.AnyOf {
		v := b.Value
		if v != nil && v.Type.Is(openapi3.TypeObject) && len(v.Properties) == 0 &&
			v.AdditionalProperties.Has != nil && !*v.AdditionalProperties.Has {
			v.AdditionalProperties = openapi3.AdditionalProperties{}
		}
	}
	for _, p := range s.Properties {
		freeObjects(p, seen)
	}
	for _, group := range []openapi3.SchemaRefs{s.AnyOf, s.OneOf, s.AllOf} {
		for _, b := range group {
			freeObjects(b, seen)
		}
	}
	freeObjects(s.Items, seen)
	freeObjects(s.AdditionalProperties.Schema, seen)
}
