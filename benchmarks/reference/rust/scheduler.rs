use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

pub struct Scheduler {
    now: u64,
    next_id: u64,
    queue: BinaryHeap<Reverse<(u64, u64)>>,
    names: HashMap<u64, String>,
}

impl Default for Scheduler {
    fn default() -> Self {
        Self::new()
    }
}

impl Scheduler {
    pub fn new() -> Scheduler {
        Scheduler {
            now: 0,
            next_id: 1,
            queue: BinaryHeap::new(),
            names: HashMap::new(),
        }
    }

    pub fn now(&self) -> u64 {
        self.now
    }

    pub fn schedule(&mut self, at: u64, name: &str) -> u64 {
        if at < self.now {
            panic!("cannot schedule at {} in the past (now is {})", at, self.now);
        }
        let id = self.next_id;
        self.next_id += 1;
        self.queue.push(Reverse((at, id)));
        self.names.insert(id, name.to_string());
        id
    }

    pub fn cancel(&mut self, id: u64) -> bool {
        self.names.remove(&id).is_some()
    }

    pub fn run_until(&mut self, now: u64) -> Vec<String> {
        let mut due = Vec::new();
        while let Some(&Reverse((at, id))) = self.queue.peek() {
            if at > now {
                break;
            }
            self.queue.pop();
            if let Some(name) = self.names.remove(&id) {
                due.push(name);
            }
        }
        self.now = self.now.max(now);
        due
    }

    pub fn pending(&self) -> usize {
        self.names.len()
    }
}
