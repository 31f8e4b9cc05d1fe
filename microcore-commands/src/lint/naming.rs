//! The naming convention of plugin files (docs/guide.md): a feature file in
//! `domains/<domain>/plugins/` is named in snake_case, and its plugin
//! struct is that name in PascalCase (`get_user.rs` holds `GetUser`), so a
//! plugin's name says where to find it and a file's name what it holds.

use microcore::registry::PluginRecord;

use super::{Finding, Severity};

/// A finding for every registered plugin in a `plugins/` folder whose file
/// or struct breaks the convention. Plugins declared elsewhere (tests,
/// examples) are not feature files and are left alone.
pub(super) fn check(plugins: &[PluginRecord]) -> Vec<Finding> {
    plugins.iter().filter_map(check_one).collect()
}

fn check_one(plugin: &PluginRecord) -> Option<Finding> {
    let file = super::file_of(&plugin.location);
    let (folder, stem) = file.strip_suffix(".rs")?.rsplit_once('/')?;
    if !(folder == "plugins" || folder.ends_with("/plugins")) {
        return None;
    }
    let name = plugin.name.rsplit_once('.').map_or("", |(_, name)| name);
    let warning = |code, message, help| Finding {
        code,
        severity: Severity::Warning,
        message,
        files: vec![file.to_string()],
        help,
    };
    let Some(expected) = pascal_case(stem) else {
        return Some(warning(
            "plugin_file_name",
            format!("{file}: a plugin file is named in snake_case (lowercase words joined by '_')"),
            format!("rename it to {folder}/{}.rs", snake_case(name)),
        ));
    };
    (name != expected).then(|| {
        warning(
            "plugin_name",
            format!("{file}: its plugin struct is '{name}', but a plugin is named after its file: '{expected}'"),
            format!(
                "rename the struct to {expected}, or the file to {folder}/{}.rs",
                snake_case(name)
            ),
        )
    })
}

/// `get_user` → `GetUser`; `None` when `stem` is not snake_case.
fn pascal_case(stem: &str) -> Option<String> {
    let snake = stem.starts_with(|c: char| c.is_ascii_lowercase())
        && stem
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !stem.ends_with('_')
        && !stem.contains("__");
    snake.then(|| {
        stem.split('_')
            .map(|word| word[..1].to_ascii_uppercase() + &word[1..])
            .collect()
    })
}

/// `GetUser` → `get_user`: the file a struct's name asks for.
fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use microcore::registry::PluginStatus;

    fn plugin(name: &str, location: &str) -> PluginRecord {
        PluginRecord {
            name: name.into(),
            domain: name.split('.').next().unwrap().into(),
            status: PluginStatus::Ready,
            error: None,
            tools: vec![],
            location: location.into(),
            critical: true,
            needs: vec![],
        }
    }

    #[test]
    fn a_plugin_named_after_its_file_passes() {
        let ok = [
            plugin("users.GetUser", "domains/users/plugins/get_user.rs:7"),
            plugin("auth.Oauth2Login", "domains/auth/plugins/oauth2_login.rs:3"),
            plugin("ping.Ping", "domains/ping/plugins/ping.rs:5"),
            // Not a feature file: a test's own plugin is named freely.
            plugin("sms.TextNewUsers", "tests/event_contracts.rs:20"),
        ];
        assert_eq!(check(&ok), vec![]);
    }

    #[test]
    fn a_struct_not_named_after_its_file_is_a_warning_naming_the_file() {
        let found = check(&[plugin("users.Fetch", "domains/users/plugins/get_user.rs:7")]);
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!((f.code, f.severity), ("plugin_name", Severity::Warning));
        assert_eq!(f.files, vec!["domains/users/plugins/get_user.rs"]);
        assert!(
            f.message.contains("'Fetch'") && f.message.contains("'GetUser'"),
            "{}",
            f.message
        );
        assert!(
            f.help.contains("domains/users/plugins/fetch.rs"),
            "{}",
            f.help
        );
    }

    #[test]
    fn a_file_not_in_snake_case_is_a_warning() {
        for file in [
            "GetUser.rs",
            "get-user.rs",
            "get__user.rs",
            "_get.rs",
            "1get.rs",
        ] {
            let location = format!("domains/users/plugins/{file}:3");
            let found = check(&[plugin("users.GetUser", &location)]);
            assert_eq!(found.len(), 1, "{file}");
            assert_eq!(found[0].code, "plugin_file_name", "{file}");
            assert!(
                found[0].help.ends_with("plugins/get_user.rs"),
                "{}",
                found[0].help
            );
        }
    }
}
