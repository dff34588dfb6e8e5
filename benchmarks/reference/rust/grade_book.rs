use std::collections::BTreeMap;

pub struct GradeBook {
    scores: BTreeMap<String, Vec<u32>>,
}

impl Default for GradeBook {
    fn default() -> Self {
        Self::new()
    }
}

impl GradeBook {
    pub fn new() -> GradeBook {
        GradeBook { scores: BTreeMap::new() }
    }

    pub fn add_score(&mut self, student: &str, score: u32) {
        self.scores.entry(student.to_string()).or_default().push(score);
    }

    pub fn average(&self, student: &str) -> Option<f64> {
        let scores = self.scores.get(student)?;
        if scores.is_empty() {
            return None;
        }
        let total: u64 = scores.iter().map(|&s| u64::from(s)).sum();
        Some(total as f64 / scores.len() as f64)
    }

    pub fn students(&self) -> Vec<String> {
        self.scores.keys().cloned().collect()
    }

    pub fn best_student(&self) -> Option<String> {
        let mut best: Option<(&String, f64)> = None;
        // BTreeMap iterates names alphabetically, so a strict ">" keeps the first name on ties.
        for name in self.scores.keys() {
            let average = self.average(name)?;
            let better = match best {
                Some((_, top)) => average > top,
                None => true,
            };
            if better {
                best = Some((name, average));
            }
        }
        best.map(|(name, _)| name.clone())
    }
}
