//! The notifications adapter of the example: prints what it would send.

use allocation_service::Notifications;

/// Writes notifications to standard output (a stand-in for e-mail).
#[derive(Clone, Copy, Debug, Default)]
pub struct PrintedNotifications;

impl Notifications for PrintedNotifications {
    async fn send(
        &self,
        destination: &str,
        message: &str,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        println!("  [notification to {destination}: {message}]");
        Ok(())
    }
}
