//! The stack's resource budget: CloudFormation allows 500 resources per stack, and SAM turns each
//! function into several. `cargo run -p xtask -- budget --python <venv python>` writes the
//! template padded with synthetic routes to [`ROUTES_THAT_MUST_FIT`] and has
//! `infra/template/budget.py` transform both templates offline with the SAM translator, count
//! what CloudFormation would create, and fail unless a route costs at most
//! [`MAX_RESOURCES_PER_ROUTE`] and both stacks stay below [`MAX_RESOURCES`].

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::catalog::{self, Line};
use crate::model::{Endpoint, Function, Kind, TableAccess};

/// The routes the stack must hold without splitting.
pub const ROUTES_THAT_MUST_FIT: usize = 100;
/// Resources a route may add after the SAM transform.
pub const MAX_RESOURCES_PER_ROUTE: usize = 3;
/// The ceiling for the whole stack, below CloudFormation's 500 with room to spare.
pub const MAX_RESOURCES: usize = 450;

/// How many of `functions` are routes.
pub fn route_count(functions: &[Function]) -> usize {
    functions
        .iter()
        .filter(|function| function.endpoint().is_some())
        .count()
}

/// `functions` with synthetic routes added up to `routes` routes. Each is a protected GET on a
/// path of its own, so it also brings a preflight method: the most a route can cost.
pub fn pad(functions: &[Function], routes: usize) -> Vec<Function> {
    let existing = route_count(functions);
    let synthetic: Vec<Function> = (existing..routes)
        .map(|index| {
            let name = format!("budget-route-{index:03}");
            let endpoint = Endpoint {
                method: "GET".to_string(),
                path: format!("/v1/budget/route-{index:03}"),
                anonymous: false,
                principal: Some(catalog::CUSTOMER),
                caching: None,
            };
            Function::described(
                &name,
                Kind::Route(endpoint),
                TableAccess::Read,
                &format!("Synthetic route {index} of the resource budget."),
                Line::Airline,
            )
        })
        .collect();
    let synthetic_paths: Vec<String> = synthetic
        .iter()
        .filter_map(Function::endpoint)
        .map(|endpoint| endpoint.path.clone())
        .collect();
    let (routes, others): (Vec<Function>, Vec<Function>) = functions
        .iter()
        .cloned()
        .partition(|function| function.endpoint().is_some());
    let others = others.into_iter().map(|mut function| {
        if let Kind::Preflight { paths } = &mut function.kind {
            paths.extend(synthetic_paths.iter().cloned());
        }
        function
    });
    routes.into_iter().chain(synthetic).chain(others).collect()
}

/// Writes the padded template under `out_dir` and runs `infra/template/budget.py` with `python`
/// on it and on `root`'s template; the script's verdict is the result.
pub fn check(root: &Path, python: &Path, out_dir: &Path) -> Result<(), String> {
    let functions = crate::tables::functions()?;
    let padded = pad(&functions, ROUTES_THAT_MUST_FIT);
    let base = std::fs::read_to_string(root.join(crate::TEMPLATE_BASE))
        .map_err(|error| format!("reading {}: {error}", crate::TEMPLATE_BASE))?;
    let text = crate::template::render(&base, &padded)?;
    std::fs::create_dir_all(out_dir)
        .map_err(|error| format!("creating {}: {error}", out_dir.display()))?;
    let padded_path: PathBuf = out_dir.join(format!("template-{ROUTES_THAT_MUST_FIT}-routes.yaml"));
    std::fs::write(&padded_path, text)
        .map_err(|error| format!("writing {}: {error}", padded_path.display()))?;
    let script = root.join("infra/template/budget.py");
    let status = Command::new(python)
        .arg(&script)
        .arg("--template")
        .arg(root.join("template.yaml"))
        .arg("--routes")
        .arg(route_count(&functions).to_string())
        .arg("--padded")
        .arg(&padded_path)
        .arg("--padded-routes")
        .arg(ROUTES_THAT_MUST_FIT.to_string())
        .arg("--max-per-route")
        .arg(MAX_RESOURCES_PER_ROUTE.to_string())
        .arg("--max-total")
        .arg(MAX_RESOURCES.to_string())
        .status()
        .map_err(|error| format!("running {} {}: {error}", python.display(), script.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", script.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_adds_routes_with_their_preflight_paths_before_the_other_functions() {
        let functions = crate::tables::functions().unwrap();
        let padded = pad(&functions, ROUTES_THAT_MUST_FIT);
        assert_eq!(route_count(&padded), ROUTES_THAT_MUST_FIT);
        assert_eq!(
            padded.len() - functions.len(),
            ROUTES_THAT_MUST_FIT - route_count(&functions)
        );
        let first_other = padded.iter().position(|f| f.endpoint().is_none()).unwrap();
        assert!(padded[first_other..].iter().all(|f| f.endpoint().is_none()));
        let preflight_paths = padded
            .iter()
            .find_map(|f| match &f.kind {
                Kind::Preflight { paths } => Some(paths.len()),
                _ => None,
            })
            .unwrap();
        let distinct: std::collections::BTreeSet<&str> = padded
            .iter()
            .filter_map(Function::endpoint)
            .map(|endpoint| endpoint.path.as_str())
            .collect();
        assert_eq!(preflight_paths, distinct.len());
    }
}
