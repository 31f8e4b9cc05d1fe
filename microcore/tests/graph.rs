//! The wiring check, one case per error kind, and its rendered messages
//! (snapshots under `tests/snapshots/`).
#![allow(missing_docs)]

use microcore::descriptor::{Dependency, Location, PluginDescriptor, ToolDescriptor};
use microcore::graph::check;
use microcore::{ContainerError, Wiring};

fn no_plugin(
    _: &Wiring<'_>,
) -> Result<std::sync::Arc<dyn microcore::lifecycle::DynPlugin>, ContainerError> {
    Err(ContainerError::Missing {
        tool: "none",
        owner: "test",
    })
}

fn no_tool(
    _: &Wiring<'_>,
) -> Result<std::sync::Arc<dyn microcore::lifecycle::DynTool>, ContainerError> {
    Err(ContainerError::Missing {
        tool: "none",
        owner: "test",
    })
}

fn deps(list: &[(&'static str, &'static str, u32)]) -> &'static [Dependency] {
    let v: Vec<Dependency> = list
        .iter()
        .map(|(field, tool, line)| Dependency {
            field,
            tool,
            line: *line,
        })
        .collect();
    Box::leak(v.into_boxed_slice())
}

fn tool(
    name: &'static str,
    file: &'static str,
    needs: &[(&'static str, &'static str, u32)],
) -> &'static ToolDescriptor {
    tool_with(name, name, file, needs, false)
}

fn tool_with(
    name: &'static str,
    type_name: &'static str,
    file: &'static str,
    needs: &[(&'static str, &'static str, u32)],
    replaces: bool,
) -> &'static ToolDescriptor {
    Box::leak(Box::new(ToolDescriptor {
        name,
        type_name,
        location: Location { file, line: 10 },
        deps: deps(needs),
        replaces,
        critical: false,
        dry_run: &[],
        pre_boot: || {},
        construct: no_tool,
    }))
}

fn plugin(
    name: &'static str,
    file: &'static str,
    line: u32,
    needs: &[(&'static str, &'static str, u32)],
) -> &'static PluginDescriptor {
    Box::leak(Box::new(PluginDescriptor {
        name,
        domain_override: None,
        critical: true,
        location: Location { file, line },
        deps: deps(needs),
        construct: no_plugin,
    }))
}

fn base_tools() -> Vec<&'static ToolDescriptor> {
    vec![
        tool("log", "tools/log/src/lib.rs", &[("config", "config", 61)]),
        tool(
            "http",
            "tools/http/src/tool.rs",
            &[("config", "config", 23)],
        ),
        tool("config", "tools/config/src/tool.rs", &[]),
        tool(
            "db",
            "tools/db/src/tool.rs",
            &[("config", "config", 30), ("log", "log", 31)],
        ),
    ]
}

fn rendered(tools: &[&'static ToolDescriptor], plugins: &[&'static PluginDescriptor]) -> String {
    check(tools, plugins)
        .expect_err("the graph has mistakes")
        .to_string()
}

#[test]
fn a_sound_graph_boots_dependencies_first_ties_by_name() {
    let plugins = [plugin(
        "Ping",
        "domains/ping/plugins/ping.rs",
        6,
        &[("http", "http", 8)],
    )];
    let plan = check(&base_tools(), &plugins).unwrap();
    let order: Vec<&str> = plan.tools.iter().map(|t| t.name).collect();
    assert_eq!(order, ["config", "http", "log", "db"]);
    let levels: Vec<Vec<&str>> = plan
        .levels
        .iter()
        .map(|l| l.iter().map(|t| t.name).collect())
        .collect();
    assert_eq!(levels, [vec!["config"], vec!["http", "log"], vec!["db"]]);
    assert_eq!(plan.plugins[0].qualified_name(), "ping.Ping");
}

#[test]
fn the_order_does_not_depend_on_the_order_of_the_slices() {
    let mut tools = base_tools();
    let first: Vec<&str> = check(&tools, &[])
        .unwrap()
        .tools
        .iter()
        .map(|t| t.name)
        .collect();
    tools.reverse();
    let second: Vec<&str> = check(&tools, &[])
        .unwrap()
        .tools
        .iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(first, second);
}

#[test]
fn missing_tool_names_file_line_field_and_what_exists() {
    let plugins = [plugin(
        "CreateUser",
        "domains/users/plugins/create_user.rs",
        5,
        &[("db", "db", 7), ("mailer", "mailer", 9)],
    )];
    insta::assert_snapshot!(rendered(&base_tools(), &plugins));
}

#[test]
fn a_likely_typo_is_pointed_out() {
    let plugins = [plugin(
        "Ping",
        "domains/ping/plugins/ping.rs",
        6,
        &[("http", "htpp", 8)],
    )];
    insta::assert_snapshot!(rendered(&base_tools(), &plugins));
}

#[test]
fn two_tools_with_one_name_without_replaces() {
    let mut tools = base_tools();
    tools.push(tool_with(
        "db",
        "MyDb",
        "domains/shared/my_db.rs",
        &[],
        false,
    ));
    insta::assert_snapshot!(rendered(&tools, &[]));
}

#[test]
fn replaces_lets_one_tool_take_a_name_on_purpose() {
    let mut tools = base_tools();
    let mine = tool_with("db", "MyDb", "tools/my_db/src/lib.rs", &[], true);
    tools.push(mine);
    let plan = check(&tools, &[]).unwrap();
    let db = plan.tools.iter().find(|t| t.name == "db").unwrap();
    assert_eq!(db.type_name, "MyDb");
    assert_eq!(plan.replaced.len(), 1);
    assert_eq!(plan.replaced[0].0.type_name, "db");
}

#[test]
fn two_plugins_with_one_name() {
    let plugins = [
        plugin("ListUsers", "domains/users/plugins/list_users.rs", 5, &[]),
        plugin(
            "ListUsers",
            "domains/users/plugins/list_users_v2.rs",
            7,
            &[],
        ),
    ];
    insta::assert_snapshot!(rendered(&base_tools(), &plugins));
}

#[test]
fn a_cycle_is_shown_as_edges() {
    let mut tools = base_tools();
    tools.push(tool(
        "cache",
        "tools/cache/src/lib.rs",
        &[("queue", "queue", 12)],
    ));
    tools.push(tool(
        "queue",
        "tools/queue/src/lib.rs",
        &[("cache", "cache", 14)],
    ));
    insta::assert_snapshot!(rendered(&tools, &[]));
}

#[test]
fn a_tool_needing_itself_is_a_cycle() {
    let tools = [tool(
        "solo",
        "tools/solo/src/lib.rs",
        &[("again", "solo", 3)],
    )];
    let errors = check(&tools, &[]).unwrap_err();
    let codes: Vec<&str> = errors.0.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["tool_cycle"]);
}

#[test]
fn every_problem_is_reported_in_one_run_in_a_stable_order() {
    let mut tools = base_tools();
    tools.push(tool_with(
        "db",
        "MyDb",
        "domains/shared/my_db.rs",
        &[],
        false,
    ));
    tools.push(tool(
        "cache",
        "tools/cache/src/lib.rs",
        &[("queue", "queue", 12)],
    ));
    tools.push(tool(
        "queue",
        "tools/queue/src/lib.rs",
        &[("cache", "cache", 14)],
    ));
    let plugins = [
        plugin(
            "Welcome",
            "domains/users/plugins/welcome.rs",
            4,
            &[("mailer", "mailer", 6)],
        ),
        plugin(
            "Report",
            "domains/admin/plugins/report.rs",
            8,
            &[("pdf", "pdf", 10)],
        ),
    ];
    let once = rendered(&tools, &plugins);
    tools.reverse();
    let twice = rendered(&tools, &[plugins[1], plugins[0]]);
    assert_eq!(once, twice);
    insta::assert_snapshot!(once);
}
