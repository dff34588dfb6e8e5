use task_order::{build_order, OrderError};

#[test]
fn without_dependencies_tasks_are_sorted() {
    assert_eq!(build_order(&["b", "a", "c"], &[]), Ok(vec!["a".to_string(), "b".to_string(), "c".to_string()]));
    assert_eq!(build_order(&[], &[]), Ok(vec![]));
}

#[test]
fn dependencies_come_first() {
    let order = build_order(&["deploy", "test", "build"], &[("deploy", "test"), ("test", "build")]);
    assert_eq!(order, Ok(vec!["build".to_string(), "test".to_string(), "deploy".to_string()]));
    let repeated = build_order(&["x", "y"], &[("x", "y"), ("x", "y")]);
    assert_eq!(repeated, Ok(vec!["y".to_string(), "x".to_string()]));
}

#[test]
fn smallest_ready_task_goes_next() {
    let order = build_order(&["a", "b", "c", "d"], &[("a", "d"), ("b", "c")]).unwrap();
    assert_eq!(order, vec!["c", "b", "d", "a"]);
}

#[test]
fn cycles_are_reported() {
    let deps = [("a", "b"), ("b", "c"), ("c", "a")];
    assert_eq!(build_order(&["a", "b", "c", "d"], &deps), Err(OrderError::Cycle));
    assert_eq!(build_order(&["a", "b"], &[("a", "a")]), Err(OrderError::Cycle));
}

#[test]
fn unknown_tasks_are_reported_before_cycles() {
    let tasks = ["a", "b"];
    assert_eq!(build_order(&tasks, &[("a", "b"), ("c", "z")]), Err(OrderError::UnknownTask("c".to_string())));
    assert_eq!(build_order(&tasks, &[("a", "q")]), Err(OrderError::UnknownTask("q".to_string())));
    assert_eq!(build_order(&tasks, &[("a", "a"), ("b", "x")]), Err(OrderError::UnknownTask("x".to_string())));
}
