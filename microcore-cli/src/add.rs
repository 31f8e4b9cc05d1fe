//! `microcore add domain|plugin|tool|migration`: each writes new files
//! from templates (and `tool` registers its crate in the manifests), after
//! checking every name and that nothing would be overwritten.

use std::path::Path;

use crate::failure::{Failure, io};
use crate::files::NewFiles;
use crate::manifest::Manifest;
use crate::names;
use crate::plugin_file::{self, PluginSpec};
use crate::table_file::{self, Table};
use crate::templates::{self, render};

/// `add domain <name>`: `domains/<name>/models.rs` and an empty `plugins/`.
pub(crate) fn domain(root: &Path, name: &str) -> Result<(), Failure> {
    names::domain(name)?;
    let dir = root.join("domains").join(name);
    if dir.exists() {
        return Err(Failure::failed(format!(
            "domains/{name} already exists: nothing was written\n  = help: add a feature to it with `microcore add plugin {name} <name> --route \"GET /{name}\"`"
        )));
    }
    let mut files = NewFiles::default();
    files.add(
        format!("domains/{name}/models.rs"),
        render(templates::MODELS, &[("domain", name)]),
    );
    // Git keeps no empty folder, and discovery needs `plugins/` to exist.
    files.add(format!("domains/{name}/plugins/.gitkeep"), "");
    files.write(root, Path::new(""))?;
    println!(
        "\nnext: microcore add plugin {name} <feature> --route \"GET /{name}\"   (or --event <topic>)"
    );
    Ok(())
}

/// `add plugin <domain> <name> [--route ...] [--event ...] [--table ...]`.
pub(crate) fn plugin(
    root: &Path,
    domain: &str,
    name: &str,
    route: Option<&str>,
    topic: Option<&str>,
    table: Option<&str>,
) -> Result<(), Failure> {
    names::domain(domain)?;
    names::plugin(name)?;
    let route = route.map(names::route).transpose()?;
    if let Some(topic) = topic {
        names::topic(topic)?;
    }
    let new_domain = !root.join("domains").join(domain).exists();
    let mut files = NewFiles::default();
    let source = match table {
        Some(table) => {
            let Some(route) = route.as_ref().filter(|_| topic.is_none()) else {
                return Err(Failure::usage(
                    "--table goes with --route (and without --event): e.g. `--route \"POST /notes\" --table notes`",
                ));
            };
            names::snake_case("table", table)?;
            let table = Table::new(domain, table);
            if names::upper_camel(name) == table.row {
                return Err(Failure::usage(format!(
                    "'{name}' cannot be the plugin of table '{}': its struct would hide the row type `{}` of models.rs (name it for what it does, e.g. 'create_{name}')",
                    table.name, table.row
                )));
            }
            let models = table_models(root, &table, &mut files)?;
            let source = table_file::plugin_source(&table, name, route)?;
            files.add(
                format!("domains/{domain}/plugins/{name}.rs"),
                crate::rustfmt::format(source),
            );
            files.write(root, Path::new(""))?;
            if let Some(models) = models {
                let path = root.join(format!("domains/{domain}/models.rs"));
                std::fs::write(&path, models).map_err(|e| io("write", &path, e))?;
                println!(
                    "updated domains/{domain}/models.rs (the `{}` entity and `{}`)",
                    table.name, table.row
                );
            }
            None
        }
        None => Some(plugin_file::source(&PluginSpec {
            domain,
            name,
            route: route.as_ref(),
            topic,
        })),
    };
    if let Some(source) = source {
        files.add(
            format!("domains/{domain}/plugins/{name}.rs"),
            crate::rustfmt::format(source),
        );
        files.write(root, Path::new(""))?;
    }
    if new_domain {
        println!("(a new domain: domains/{domain}/)");
    }
    let offers = match (&route, topic) {
        (Some(r), _) => format!("serves {} {}", r.method_upper(), r.path),
        (None, Some(t)) => format!("handles {t}"),
        (None, None) => "boots".to_string(),
    };
    println!(
        "plugin {domain}.{} {offers}; `cargo test` runs its unit test",
        names::upper_camel(name)
    );
    Ok(())
}

/// `add tool <name>`: a `tools/<name>` crate with a handle and a
/// `#[tool]`, added to the workspace, the app (which links it) and the
/// domains crate (so plugins can name its handle).
pub(crate) fn tool(root: &Path, name: &str) -> Result<(), Failure> {
    names::tool(name)?;
    let mut workspace = Manifest::read(&root.join("Cargo.toml"))?;
    let mut domains = Manifest::read(&root.join("domains/Cargo.toml"))?;
    // Named after the app, like its domains package (see `new`).
    let package = format!("{}-{}", workspace.package_name()?, name.replace('_', "-"));
    let lib = package.replace('-', "_");
    let handle = names::upper_camel(name);
    let env_prefix = name.to_ascii_uppercase();
    let microcore = workspace.dependency_for("microcore", "tools/x")?;
    let config = workspace.dependency_for("microcore-config", "tools/x")?;
    let tokio = domains.dependency_for("tokio", "tools/x")?;
    let vars = [
        ("microcore", microcore.as_str()),
        ("microcore_config", config.as_str()),
        ("tokio", tokio.as_str()),
        ("name", name),
        ("crate", package.as_str()),
        ("lib", lib.as_str()),
        ("Handle", handle.as_str()),
        ("NAME", env_prefix.as_str()),
    ];
    let mut files = NewFiles::default();
    files.add(
        format!("tools/{name}/Cargo.toml"),
        render(templates::TOOL_MANIFEST, &vars),
    );
    files.add(
        format!("tools/{name}/src/lib.rs"),
        render(templates::TOOL_LIB, &vars),
    );
    files.refuse_existing(root, Path::new(""))?;

    // An app made by `new` names its crates by path; microcore's own
    // workspace names them once, in [workspace.dependencies].
    let shared = workspace.has("workspace", "dependencies");
    let mut edits = vec![(&workspace, "dependencies"), (&domains, "dependencies")];
    if shared {
        edits.push((&workspace, "workspace.dependencies"));
    }
    for (manifest, table) in edits {
        if manifest.has(table, &package) {
            return Err(Failure::failed(format!(
                "{} already has '{package}' in [{table}]: nothing was written",
                manifest.path().display()
            )));
        }
    }
    workspace.add_member(&format!("tools/{name}"))?;
    if shared {
        workspace.add_path_dependency(
            "workspace.dependencies",
            &package,
            &format!("tools/{name}"),
        )?;
        workspace.add_workspace_dependency("dependencies", &package)?;
        domains.add_workspace_dependency("dependencies", &package)?;
    } else {
        workspace.add_path_dependency("dependencies", &package, &format!("tools/{name}"))?;
        domains.add_path_dependency("dependencies", &package, &format!("../tools/{name}"))?;
    }

    files.write(root, Path::new(""))?;
    workspace.write()?;
    println!("updated Cargo.toml (workspace member, the app's [dependencies])");
    domains.write()?;
    println!("updated domains/Cargo.toml ([dependencies])");
    println!("\ntool '{name}' is linked; a plugin uses it with a field `{name}: {lib}::{handle}`");
    Ok(())
}

/// `add migration <domain> <name>`: the next `NNNN_<name>.sql`.
pub(crate) fn migration(root: &Path, domain: &str, name: &str) -> Result<(), Failure> {
    names::domain(domain)?;
    names::snake_case("migration", name)?;
    let number = next_migration(root, domain, name)?;
    let stem = format!("{number}_{name}");
    let mut files = NewFiles::default();
    files.add(
        format!("domains/{domain}/migrations/{stem}.sql"),
        render(
            templates::MIGRATION,
            &[("stem", &stem), ("number", &number), ("domain", domain)],
        ),
    );
    files.write(root, Path::new(""))?;
    println!(
        "write its SQL before the app boots again: once applied, a migration may not change (`microcore dev` waits until the file holds a statement)"
    );
    Ok(())
}

/// The number (`0003`) of the next migration of `domain`, refusing a name
/// one of its migrations has already.
fn next_migration(root: &Path, domain: &str, name: &str) -> Result<String, Failure> {
    let mut highest = 0;
    for (file, _) in migration_files(root, domain)? {
        let Some((number, rest)) = file.split_once('_') else {
            continue;
        };
        let Ok(number) = number.parse::<u32>() else {
            continue;
        };
        highest = highest.max(number);
        let stem = rest.split('.').next().unwrap_or_default();
        if stem == name {
            return Err(Failure::failed(format!(
                "domains/{domain}/migrations/{file} already has the name '{name}': nothing was written\n  = help: name the new migration for what it changes, e.g. 'add_{name}_index'"
            )));
        }
    }
    Ok(format!("{:04}", highest + 1))
}

/// Every file of `domains/<domain>/migrations/` with its text (none when
/// the folder does not exist).
fn migration_files(root: &Path, domain: &str) -> Result<Vec<(String, String)>, Failure> {
    let dir = root.join("domains").join(domain).join("migrations");
    let mut files = Vec::new();
    if !dir.is_dir() {
        return Ok(files);
    }
    for entry in std::fs::read_dir(&dir).map_err(|e| io("read", &dir, e))? {
        let path = entry.map_err(|e| io("read", &dir, e))?.path();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        files.push((
            path.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
            text,
        ));
    }
    Ok(files)
}

/// For `--table`: adds the migration creating the table to `files` unless
/// one exists, and returns the new text of `models.rs` unless it declares
/// the table's entity already (a new `models.rs` goes in `files`).
fn table_models(
    root: &Path,
    table: &Table<'_>,
    files: &mut NewFiles,
) -> Result<Option<String>, Failure> {
    let domain = table.domain;
    let sql: Vec<String> = migration_files(root, domain)?
        .into_iter()
        .map(|(_, text)| text)
        .collect();
    if !table.is_created_by(&sql) {
        let stem = format!("create_{}", table.name);
        let number = next_migration(root, domain, &stem)?;
        for (suffix, text) in table.migrations() {
            files.add(
                format!("domains/{domain}/migrations/{number}_{stem}{suffix}"),
                text,
            );
        }
    }
    let path = root.join(format!("domains/{domain}/models.rs"));
    if !path.is_file() {
        let models = render(templates::MODELS, &[("domain", domain)]);
        files.add(
            format!("domains/{domain}/models.rs"),
            table.added_to(&models),
        );
        return Ok(None);
    }
    let models = std::fs::read_to_string(&path).map_err(|e| io("read", &path, e))?;
    if table.is_in(&models) {
        return Ok(None);
    }
    Ok(Some(table.added_to(&models)))
}
