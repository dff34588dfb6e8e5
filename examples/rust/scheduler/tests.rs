#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_count_up_from_one() {
        let mut scheduler = Scheduler::new();
        assert_eq!(scheduler.now(), 0);
        assert_eq!(scheduler.pending(), 0);
        assert_eq!(scheduler.schedule(10, "a"), 1);
        assert_eq!(scheduler.schedule(5, "b"), 2);
        assert_eq!(scheduler.schedule(10, "c"), 3);
        assert_eq!(scheduler.pending(), 3);
    }

    #[test]
    fn run_until_returns_due_events_in_order() {
        let mut scheduler = Scheduler::new();
        scheduler.schedule(30, "c");
        scheduler.schedule(10, "a");
        scheduler.schedule(20, "b");
        scheduler.schedule(10, "a2");
        assert_eq!(scheduler.run_until(20), vec!["a", "a2", "b"]);
        assert_eq!(scheduler.now(), 20);
        assert_eq!(scheduler.pending(), 1);
        assert!(scheduler.run_until(25).is_empty());
        assert_eq!(scheduler.run_until(100), vec!["c"]);
        assert_eq!(scheduler.pending(), 0);
    }

    #[test]
    fn cancelled_and_finished_events() {
        let mut scheduler = Scheduler::new();
        let x = scheduler.schedule(5, "x");
        let y = scheduler.schedule(8, "y");
        assert!(scheduler.cancel(x));
        assert!(!scheduler.cancel(x));
        assert!(!scheduler.cancel(99));
        assert_eq!(scheduler.pending(), 1);
        assert_eq!(scheduler.run_until(10), vec!["y"]);
        assert!(!scheduler.cancel(y));
    }

    #[test]
    fn time_never_goes_back() {
        let mut scheduler = Scheduler::new();
        assert!(scheduler.run_until(50).is_empty());
        assert!(scheduler.run_until(10).is_empty());
        assert_eq!(scheduler.now(), 50);
        scheduler.schedule(50, "same time");
        assert_eq!(scheduler.run_until(50), vec!["same time"]);
    }

    #[test]
    #[should_panic(expected = "in the past")]
    fn scheduling_in_the_past_panics() {
        let mut scheduler = Scheduler::new();
        scheduler.run_until(100);
        scheduler.schedule(99, "late");
    }
}
