//! The call page's state without a framework: values the view shows (setting one asks for the
//! page to be redrawn once, after the current task) and objects the page holds.

use std::cell::RefCell;

/// A value the view shows. Setting it schedules a redraw (`view::redraw_soon`).
pub struct Shown<T>(RefCell<T>);

impl<T: Clone> Shown<T> {
    pub fn new(value: T) -> Self {
        Shown(RefCell::new(value))
    }

    /// Sets the value; the page is redrawn soon.
    pub fn set(&self, value: T) {
        *self.0.borrow_mut() = value;
        super::view::redraw_soon();
    }

    pub fn get(&self) -> T {
        self.0.borrow().clone()
    }

    pub fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        f(&self.0.borrow())
    }
}

/// Something the page holds (the session model, the browser objects). `None` when it is in use
/// further up the stack: a callback that reached it re-entrantly gives up rather than panics.
pub struct Held<T>(RefCell<T>);

impl<T> Held<T> {
    pub fn new(value: T) -> Self {
        Held(RefCell::new(value))
    }

    pub fn update<R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        let mut value = self.0.try_borrow_mut().ok()?;
        Some(f(&mut value))
    }

    pub fn with<R>(&self, f: impl FnOnce(&T) -> R) -> Option<R> {
        let value = self.0.try_borrow().ok()?;
        Some(f(&value))
    }
}
