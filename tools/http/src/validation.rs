//! `validator` errors as the envelope's `details`: field and rule, in
//! words, never the value (validator keeps it in `params`; we drop it).

use microcore::FieldError;
use validator::{ValidationError, ValidationErrors, ValidationErrorsKind};

/// Flattens nested validation errors into `{field, message}` pairs, sorted
/// by field so answers are stable.
pub(crate) fn field_errors(errors: &ValidationErrors) -> Vec<FieldError> {
    let mut out = Vec::new();
    collect("", errors, &mut out);
    out.sort_by(|a, b| a.field.cmp(&b.field));
    out
}

fn collect(prefix: &str, errors: &ValidationErrors, out: &mut Vec<FieldError>) {
    for (field, kind) in errors.errors() {
        let name = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                out.extend(list.iter().map(|e| FieldError {
                    field: name.clone(),
                    message: describe(e),
                }));
            }
            ValidationErrorsKind::Struct(inner) => collect(&name, inner, out),
            ValidationErrorsKind::List(items) => {
                for (i, inner) in items {
                    collect(&format!("{name}[{i}]"), inner, out);
                }
            }
        }
    }
}

fn describe(e: &ValidationError) -> String {
    if let Some(message) = &e.message {
        return message.to_string();
    }
    let param = |name: &str| e.params.get(name).map(|v| v.to_string());
    match e.code.as_ref() {
        "length" => match (param("min"), param("max"), param("equal")) {
            (_, _, Some(n)) => format!("must be exactly {n} characters"),
            (Some(min), Some(max), _) => format!("must be between {min} and {max} characters"),
            (Some(min), None, _) => format!("must be at least {min} characters"),
            (None, Some(max), _) => format!("must be at most {max} characters"),
            _ => "has an invalid length".into(),
        },
        "range" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("must be between {min} and {max}"),
            (Some(min), None) => format!("must be at least {min}"),
            (None, Some(max)) => format!("must be at most {max}"),
            _ => "is out of range".into(),
        },
        "email" => "must be a valid email address".into(),
        "url" => "must be a valid URL".into(),
        "required" => "is required".into(),
        code => format!("is invalid ({code})"),
    }
}
