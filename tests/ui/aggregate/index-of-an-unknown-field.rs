use uow_core::Aggregate;

#[derive(Aggregate, Debug)]
#[aggregate(table = "payments", index(merchant, craeted_at))]
pub struct Payment {
    #[aggregate(id)]
    pub id: String,
    #[aggregate(version)]
    pub version: u64,
    pub merchant: String,
    pub created_at: i64,
}

fn main() {}
