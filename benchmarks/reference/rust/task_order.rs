use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

#[derive(Debug, PartialEq, Eq)]
pub enum OrderError {
    UnknownTask(String),
    Cycle,
}

/// Orders tasks so that dependencies come first, the smallest ready name first.
pub fn build_order(tasks: &[&str], deps: &[(&str, &str)]) -> Result<Vec<String>, OrderError> {
    let mut waiting_on: HashMap<&str, usize> = tasks.iter().map(|&t| (t, 0)).collect();
    for &(task, dependency) in deps {
        for name in [task, dependency] {
            if !waiting_on.contains_key(name) {
                return Err(OrderError::UnknownTask(name.to_string()));
            }
        }
    }
    let mut dependents: HashMap<&str, Vec<&str>> = HashMap::new();
    for &(task, dependency) in deps {
        *waiting_on.get_mut(task).expect("checked above") += 1;
        dependents.entry(dependency).or_default().push(task);
    }
    let mut ready: BinaryHeap<Reverse<&str>> = waiting_on
        .iter()
        .filter(|(_, &count)| count == 0)
        .map(|(&task, _)| Reverse(task))
        .collect();
    let mut order = Vec::with_capacity(tasks.len());
    while let Some(Reverse(task)) = ready.pop() {
        order.push(task.to_string());
        for &dependent in dependents.get(task).map(Vec::as_slice).unwrap_or(&[]) {
            let count = waiting_on.get_mut(dependent).expect("known task");
            *count -= 1;
            if *count == 0 {
                ready.push(Reverse(dependent));
            }
        }
    }
    if order.len() == tasks.len() {
        Ok(order)
    } else {
        Err(OrderError::Cycle)
    }
}
