#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_grade_book() {
        let book = GradeBook::new();
        assert!(book.students().is_empty());
        assert_eq!(book.best_student(), None);
        assert_eq!(book.average("ann"), None);
    }

    #[test]
    fn average_of_a_students_scores() {
        let mut book = GradeBook::new();
        book.add_score("ann", 80);
        book.add_score("ann", 90);
        book.add_score("bob", 75);
        book.add_score("ann", 70);
        assert_eq!(book.average("ann"), Some(80.0));
        assert_eq!(book.average("bob"), Some(75.0));
        assert_eq!(book.average("cid"), None);
    }

    #[test]
    fn students_are_sorted_and_unique() {
        let mut book = GradeBook::new();
        for name in ["cid", "ann", "bob", "ann"] {
            book.add_score(name, 50);
        }
        assert_eq!(book.students(), vec!["ann", "bob", "cid"]);
    }

    #[test]
    fn best_student_has_the_highest_average() {
        let mut book = GradeBook::new();
        book.add_score("ann", 90);
        book.add_score("ann", 70);
        book.add_score("bob", 85);
        assert_eq!(book.best_student(), Some("bob".to_string()));
    }

    #[test]
    fn ties_go_to_the_alphabetically_first_name() {
        let mut book = GradeBook::new();
        book.add_score("zoe", 90);
        book.add_score("amy", 100);
        book.add_score("amy", 80);
        book.add_score("max", 60);
        assert_eq!(book.best_student(), Some("amy".to_string()));
    }
}
