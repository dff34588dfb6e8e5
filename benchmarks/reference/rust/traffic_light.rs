#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Light {
    Red,
    Yellow,
    Green,
}

impl Light {
    pub fn next(self) -> Light {
        match self {
            Light::Red => Light::Green,
            Light::Green => Light::Yellow,
            Light::Yellow => Light::Red,
        }
    }

    pub fn duration_secs(self) -> u32 {
        match self {
            Light::Red => 30,
            Light::Green => 25,
            Light::Yellow => 5,
        }
    }

    pub fn from_name(name: &str) -> Option<Light> {
        match name.trim().to_ascii_lowercase().as_str() {
            "red" => Some(Light::Red),
            "yellow" => Some(Light::Yellow),
            "green" => Some(Light::Green),
            _ => None,
        }
    }
}
