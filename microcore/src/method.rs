//! A plugin method bound to its plugin: what an http route, a bus
//! subscriber and a scheduler job are made of. Each tool checks the
//! method's signature with a trait of its own (whose error says what to
//! write) and erases it here, the one place that knows how.

use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;

/// A bound method with its plugin and signature erased: `A` in, `O` out.
pub type Erased<A, O> = Arc<dyn Fn(A) -> BoxFuture<'static, O> + Send + Sync>;

/// `method` of `plugin`, callable as `method(plugin.clone(), ...)`.
///
/// ```
/// use std::sync::Arc;
/// use microcore::method::Bound;
///
/// struct Greeter;
/// impl Greeter {
///     async fn greet(self: Arc<Self>, who: &'static str) -> String { format!("hi {who}") }
/// }
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let bound = Bound::new(&Arc::new(Greeter), Greeter::greet);
/// assert_eq!(Bound::<Greeter, _>::name_of(&Greeter::greet), Some("greet"));
/// let erased = bound.erase(|m, who| async move { m.call(who).await });
/// assert_eq!(erased("ann").await, "hi ann");
/// # }
/// ```
#[derive(Debug)]
pub struct Bound<P, F> {
    plugin: Arc<P>,
    method: F,
}

impl<P, F: Clone> Clone for Bound<P, F> {
    fn clone(&self) -> Self {
        Self::new(&self.plugin, self.method.clone())
    }
}

impl<P, F> Bound<P, F> {
    /// Binds `method` to `plugin`.
    pub fn new(plugin: &Arc<P>, method: F) -> Self {
        Self {
            plugin: plugin.clone(),
            method,
        }
    }

    /// The method's own name, read from its type (`path::Cleanup::purge`
    /// → `purge`): stable across restarts, so it keys durable state.
    /// `None` for a closure, which has no name.
    pub fn name() -> Option<&'static str> {
        let full = std::any::type_name::<F>();
        let base = full.split('<').next().unwrap_or(full);
        base.rsplit("::")
            .next()
            .filter(|name| !name.is_empty() && !name.contains('{'))
    }

    /// [`Bound::name`] of `method`'s type, without binding it.
    pub fn name_of(_method: &F) -> Option<&'static str> {
        Self::name()
    }

    /// The plugin and the method, to call it with any number of arguments.
    pub fn parts(&self) -> (Arc<P>, &F) {
        (self.plugin.clone(), &self.method)
    }

    /// Calls the method with one argument.
    pub fn call<A, Fut>(&self, arg: A) -> Fut
    where
        F: Fn(Arc<P>, A) -> Fut,
    {
        (self.method)(self.plugin.clone(), arg)
    }

    /// Erases the method: each call runs `with(bound, input)`, which
    /// decodes the input, calls the method and reads its result.
    pub fn erase<A, O, W, Fut>(self, with: W) -> Erased<A, O>
    where
        Self: Clone + Send + Sync + 'static,
        W: Fn(Self, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = O> + Send + 'static,
    {
        Arc::new(move |input| Box::pin(with(self.clone(), input)))
    }
}
