#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_follows_the_cycle() {
        assert_eq!(Light::Red.next(), Light::Green);
        assert_eq!(Light::Green.next(), Light::Yellow);
        assert_eq!(Light::Yellow.next(), Light::Red);
    }

    #[test]
    fn durations() {
        assert_eq!(Light::Red.duration_secs(), 30);
        assert_eq!(Light::Green.duration_secs(), 25);
        assert_eq!(Light::Yellow.duration_secs(), 5);
    }

    #[test]
    fn a_full_cycle_takes_a_minute() {
        let mut light = Light::Green;
        let mut total = 0;
        for _ in 0..3 {
            total += light.duration_secs();
            light = light.next();
        }
        assert_eq!(total, 60);
        assert_eq!(light, Light::Green);
    }

    #[test]
    fn from_name_ignores_case_and_whitespace() {
        assert_eq!(Light::from_name("red"), Some(Light::Red));
        assert_eq!(Light::from_name(" GREEN "), Some(Light::Green));
        assert_eq!(Light::from_name("Yellow"), Some(Light::Yellow));
    }

    #[test]
    fn from_name_rejects_unknown_names() {
        assert_eq!(Light::from_name(""), None);
        assert_eq!(Light::from_name("amber"), None);
        assert_eq!(Light::from_name("re d"), None);
    }
}
