//! The subset of JSON Schema that OpenAI's structured outputs accept in strict mode: checking a
//! request's schema as the API does (`strict: true` refuses a schema that is not strict), checking
//! an answer against it, and the smallest answer that follows it.
//!
//! Strict mode, as documented: the root is an object; every object has `additionalProperties:
//! false` and lists every property in `required`; optional fields are unions with `null`; only
//! these keywords are supported.

use serde_json::{Map, Value};

const KEYWORDS: &[&str] = &[
    "type",
    "description",
    "title",
    "enum",
    "const",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "minItems",
    "maxItems",
    "anyOf",
    "pattern",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "$defs",
    "$ref",
];

const TYPES: &[&str] = &[
    "object", "array", "string", "number", "integer", "boolean", "null",
];

/// Why a schema is not strict, as the API words it (`In context=(...)`).
pub fn check_strict(schema: &Value) -> Result<(), String> {
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        return Err("schema must be a JSON Schema of 'type: \"object\"', got 'type: None'.".into());
    }
    check(schema, &mut Vec::new())
}

fn context(path: &[String]) -> String {
    let parts: Vec<String> = path.iter().map(|p| format!("'{p}'")).collect();
    format!("In context=({})", parts.join(", "))
}

fn check(schema: &Value, path: &mut Vec<String>) -> Result<(), String> {
    let Some(object) = schema.as_object() else {
        return Err(format!("{}, schema must be an object.", context(path)));
    };
    for key in object.keys() {
        if !KEYWORDS.contains(&key.as_str()) {
            return Err(format!("{}, '{key}' is not permitted.", context(path)));
        }
    }
    let types = types_of(object);
    for kind in &types {
        if !TYPES.contains(&kind.as_str()) {
            return Err(format!(
                "{}, type '{kind}' is not supported.",
                context(path)
            ));
        }
    }
    if types.iter().any(|t| t == "object") {
        if object.get("additionalProperties") != Some(&Value::Bool(false)) {
            return Err(format!(
                "{}, 'additionalProperties' is required to be supplied and to be false.",
                context(path)
            ));
        }
        let properties = object
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let required: Vec<&str> = object
            .get("required")
            .and_then(Value::as_array)
            .map(|list| list.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for key in properties.keys() {
            if !required.contains(&key.as_str()) {
                return Err(format!(
                    "{}, 'required' is required to be supplied and to be an array including \
                     every key in properties. Missing '{key}'.",
                    context(path)
                ));
            }
        }
        for (key, property) in &properties {
            path.push("properties".into());
            path.push(key.clone());
            check(property, path)?;
            path.truncate(path.len() - 2);
        }
    }
    if types.iter().any(|t| t == "array") {
        let Some(items) = object.get("items") else {
            return Err(format!("{}, array schema missing items.", context(path)));
        };
        path.push("items".into());
        check(items, path)?;
        path.pop();
    }
    if let Some(variants) = object.get("anyOf").and_then(Value::as_array) {
        for (n, variant) in variants.iter().enumerate() {
            path.push("anyOf".into());
            path.push(n.to_string());
            check(variant, path)?;
            path.truncate(path.len() - 2);
        }
    }
    Ok(())
}

fn types_of(object: &Map<String, Value>) -> Vec<String> {
    match object.get("type") {
        Some(Value::String(kind)) => vec![kind.clone()],
        Some(Value::Array(kinds)) => kinds
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

fn is_type(value: &Value, kind: &str) -> bool {
    match kind {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        _ => false,
    }
}

/// Whether `value` follows `schema`; the first mismatch otherwise (with its JSON path).
pub fn validate(value: &Value, schema: &Value) -> Result<(), String> {
    validate_at(value, schema, "$")
}

fn validate_at(value: &Value, schema: &Value, at: &str) -> Result<(), String> {
    let Some(object) = schema.as_object() else {
        return Ok(());
    };
    if let Some(variants) = object.get("anyOf").and_then(Value::as_array)
        && !variants
            .iter()
            .any(|variant| validate_at(value, variant, at).is_ok())
    {
        return Err(format!("{at}: matches no variant"));
    }
    let types = types_of(object);
    if !types.is_empty() && !types.iter().any(|kind| is_type(value, kind)) {
        return Err(format!("{at}: expected {}", types.join(" or ")));
    }
    if let Some(allowed) = object.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        return Err(format!(
            "{at}: {value} is not one of {}",
            Value::from(allowed.clone())
        ));
    }
    if let Some(constant) = object.get("const")
        && constant != value
    {
        return Err(format!("{at}: expected {constant}"));
    }
    if let Some(fields) = value.as_object() {
        let properties = object.get("properties").and_then(Value::as_object);
        for key in object
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !fields.contains_key(key) {
                return Err(format!("{at}: missing '{key}'"));
            }
        }
        for (key, field) in fields {
            match properties.and_then(|p| p.get(key)) {
                Some(property) => validate_at(field, property, &format!("{at}.{key}"))?,
                None if object.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    return Err(format!("{at}: unexpected '{key}'"));
                }
                None => {}
            }
        }
    }
    if let Some(items) = value.as_array() {
        let count = items.len() as u64;
        if let Some(min) = object.get("minItems").and_then(Value::as_u64)
            && count < min
        {
            return Err(format!("{at}: at least {min} items, got {count}"));
        }
        if let Some(max) = object.get("maxItems").and_then(Value::as_u64)
            && count > max
        {
            return Err(format!("{at}: at most {max} items, got {count}"));
        }
        if let Some(item) = object.get("items") {
            for (n, element) in items.iter().enumerate() {
                validate_at(element, item, &format!("{at}[{n}]"))?;
            }
        }
    }
    if let Some(number) = value.as_f64() {
        if let Some(min) = object.get("minimum").and_then(Value::as_f64)
            && number < min
        {
            return Err(format!("{at}: below {min}"));
        }
        if let Some(max) = object.get("maximum").and_then(Value::as_f64)
            && number > max
        {
            return Err(format!("{at}: above {max}"));
        }
    }
    Ok(())
}

/// The smallest value that follows `schema`: what a model forced into it says with nothing to say.
pub fn instance(schema: &Value) -> Value {
    let Some(object) = schema.as_object() else {
        return Value::Null;
    };
    if let Some(first) = object
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    if let Some(constant) = object.get("const") {
        return constant.clone();
    }
    if let Some(first) = object
        .get("anyOf")
        .and_then(Value::as_array)
        .and_then(|v| v.first())
    {
        return instance(first);
    }
    let types = types_of(object);
    let kind = types
        .iter()
        .find(|t| *t != "null")
        .or_else(|| types.first())
        .map(String::as_str);
    match kind {
        Some("object") => {
            let mut out = Map::new();
            if let Some(properties) = object.get("properties").and_then(Value::as_object) {
                for (key, property) in properties {
                    out.insert(key.clone(), instance(property));
                }
            }
            Value::Object(out)
        }
        Some("array") => {
            let min = object.get("minItems").and_then(Value::as_u64).unwrap_or(0);
            let item = object.get("items").map(instance).unwrap_or(Value::Null);
            Value::Array((0..min).map(|_| item.clone()).collect())
        }
        Some("string") => Value::String(String::new()),
        Some("number") | Some("integer") => {
            let min = object.get("minimum").and_then(Value::as_i64).unwrap_or(0);
            Value::from(min)
        }
        Some("boolean") => Value::Bool(false),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn strict_schema() -> Value {
        json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["items", "note"],
            "properties": {
                "items": {"type": "array", "minItems": 1, "maxItems": 2, "items": {
                    "type": "object", "additionalProperties": false, "required": ["n"],
                    "properties": {"n": {"type": "integer"}}
                }},
                "note": {"type": ["string", "null"], "enum": ["a", "b", null]}
            }
        })
    }

    #[test]
    fn a_strict_schema_passes_and_its_smallest_instance_follows_it() {
        let schema = strict_schema();
        assert_eq!(check_strict(&schema), Ok(()));
        let value = instance(&schema);
        assert_eq!(value, json!({"items": [{"n": 0}], "note": "a"}));
        assert_eq!(validate(&value, &schema), Ok(()));
    }

    #[test]
    fn schemas_that_are_not_strict_are_refused_with_their_context() {
        let mut schema = strict_schema();
        schema["properties"]["items"]["items"]
            .as_object_mut()
            .unwrap()
            .remove("additionalProperties");
        let error = check_strict(&schema).unwrap_err();
        assert!(
            error
                .starts_with("In context=('properties', 'items', 'items'), 'additionalProperties'"),
            "{error}"
        );
        let mut schema = strict_schema();
        schema["required"] = json!(["items"]);
        assert!(
            check_strict(&schema)
                .unwrap_err()
                .contains("Missing 'note'")
        );
        let mut schema = strict_schema();
        schema["properties"]["note"]["minLength"] = json!(1);
        assert!(
            check_strict(&schema)
                .unwrap_err()
                .contains("'minLength' is not permitted")
        );
        assert!(check_strict(&json!({"type": "array", "items": {}})).is_err());
    }

    #[test]
    fn answers_are_checked_field_by_field() {
        let schema = strict_schema();
        assert_eq!(
            validate(&json!({"items": [{"n": 1}], "note": null}), &schema),
            Ok(())
        );
        assert!(validate(&json!({"items": [], "note": null}), &schema).is_err());
        assert!(
            validate(
                &json!({"items": [{"n": 1}, {"n": 2}, {"n": 3}], "note": null}),
                &schema
            )
            .is_err()
        );
        assert!(validate(&json!({"items": [{"n": "1"}], "note": null}), &schema).is_err());
        assert!(validate(&json!({"items": [{"n": 1}], "note": "c"}), &schema).is_err());
        assert!(validate(&json!({"items": [{"n": 1}]}), &schema).is_err());
        assert!(validate(&json!({"items": [{"n": 1}], "note": null, "x": 1}), &schema).is_err());
    }
}
