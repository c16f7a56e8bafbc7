//! How task lists are sorted, and the keys their keyset pages and cursors are made of.

use super::Page;
use crate::plan::Task;
use crate::{Error, Result};

/// What tasks are sorted by; ties (and [`TaskSort::Number`]) go by task number, in the same
/// direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TaskSort {
    /// The task number.
    #[default]
    Number,
    /// The section's position in the plan, then the number.
    Section,
    /// The name of the first-listed lead agency (empty if none), then the number.
    LeadAgency,
}

/// The value a task is sorted by, before its number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TaskSortValue {
    /// Sorting by number: nothing before it.
    None,
    /// The section's position.
    Position(i32),
    /// The lead agency's name.
    Name(String),
}

/// A page of tasks, each with its key in the list's sort.
pub type TaskPage = Page<(TaskKey, Task)>;

/// Where a task stands in a sorted list: the key of a keyset page.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskKey {
    /// The sort value.
    pub value: TaskSortValue,
    /// The task number, which breaks ties.
    pub number: i32,
}

impl TaskKey {
    /// A key when sorting by number.
    pub fn number(number: i32) -> Self {
        Self { value: TaskSortValue::None, number }
    }

    /// Whether this key belongs to a list sorted by `sort`.
    pub fn fits(&self, sort: TaskSort) -> bool {
        matches!(
            (sort, &self.value),
            (TaskSort::Number, TaskSortValue::None)
                | (TaskSort::Section, TaskSortValue::Position(_))
                | (TaskSort::LeadAgency, TaskSortValue::Name(_))
        )
    }
}

/// Text form of a [`TaskKey`] (inside an opaque cursor): "17" when sorting by number (the form
/// cursors always had), "s:3:17" by section, "l:17:Ministry of Commerce" by lead agency.
impl std::fmt::Display for TaskKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.value {
            TaskSortValue::None => write!(f, "{}", self.number),
            TaskSortValue::Position(p) => write!(f, "s:{p}:{}", self.number),
            TaskSortValue::Name(n) => write!(f, "l:{}:{n}", self.number),
        }
    }
}

impl std::str::FromStr for TaskKey {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::validation("cursor", "not a task cursor");
        let int = |t: &str| t.parse::<i32>().map_err(|_| bad());
        if let Some(rest) = s.strip_prefix("s:") {
            let (position, number) = rest.split_once(':').ok_or_else(bad)?;
            return Ok(Self { value: TaskSortValue::Position(int(position)?), number: int(number)? });
        }
        if let Some(rest) = s.strip_prefix("l:") {
            let (number, name) = rest.split_once(':').ok_or_else(bad)?;
            return Ok(Self { value: TaskSortValue::Name(name.to_owned()), number: int(number)? });
        }
        Ok(Self::number(int(s)?))
    }
}
