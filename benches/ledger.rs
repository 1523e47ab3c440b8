//! The ledger's pure rules at their largest: the charges an approval
//! writes for the biggest application allowed (100 sites for 50 years), and
//! a year's ledger and CSV over 100,000 charges (a big council's year).
//!
//! Run with `cargo bench --bench ledger`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::{Rng, SeedableRng, rngs::StdRng};
use rust_decimal::Decimal;
use time::macros::date;

use streetcell::domain::asset::{AssetKind, PowerSupply};
use streetcell::domain::fees::{FeeSchedule, QuoteSite, QuoteTerms};
use streetcell::domain::ledger::{
    AgreementSite, Charge, ChargeKind, agreement_charges, csv, ledger,
};

fn schedule() -> FeeSchedule {
    let mut s: FeeSchedule =
        serde_json::from_str(include_str!("../data/demo/fee_schedule.json")).expect("schedule");
    s.effective_from = date!(2020 - 01 - 01);
    s
}

fn sites(n: usize) -> Vec<AgreementSite> {
    let mut rng = StdRng::seed_from_u64(11);
    (0..n)
        .map(|i| AgreementSite {
            site: QuoteSite {
                asset_id: format!("bench-{i:05}"),
                kind: AssetKind::ALL[rng.random_range(0..AssetKind::ALL.len())],
                fee_zone: ["central", "suburban", "none"][rng.random_range(0..3)]
                    .to_string()
                    .into(),
                power_supply: PowerSupply::Continuous,
                install_year: Some(rng.random_range(1965..2025)),
                shared: rng.random_bool(0.2),
                new_structure: false,
            },
            ward: Some(format!("Ward {}", i % 21)),
        })
        .collect()
}

fn charges(n: usize) -> Vec<Charge> {
    let mut rng = StdRng::seed_from_u64(12);
    (0..n)
        .map(|i| {
            let amount = Decimal::new(rng.random_range(10_000..500_000), 2);
            Charge {
                kind: if i % 5 == 0 {
                    ChargeKind::ApplicationFee
                } else {
                    ChargeKind::Rent
                },
                application: format!("app-{:020x}", i / 3),
                agreement: Some(format!("agr-{:020x}", i / 3)),
                agreement_year: Some(1 + (i % 10) as u32),
                operator: ["acme", "beta", "gamma", "delta"][i % 4].to_string(),
                asset: format!("trafford-{i:016x}"),
                asset_kind: AssetKind::ALL[i % AssetKind::ALL.len()],
                ward: Some(format!("Ward {}", i % 21)),
                due_on: date!(2027 - 01 - 01),
                currency: "GBP".into(),
                amount,
                subsidy: (amount / Decimal::TWO).round_dp(2),
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let s = schedule();
    let big = sites(100);
    let terms = QuoteTerms {
        term_years: 50,
        start: date!(2027 - 04 - 01),
        discount_rate: None,
    };
    let mut g = c.benchmark_group("agreement");
    g.throughput(Throughput::Elements(100 * 50));
    g.bench_function("charges_100_sites_50_years", |b| {
        b.iter(|| agreement_charges("bench", &s, 1, black_box(&big), &terms).expect("charges"))
    });
    g.finish();

    let year = charges(100_000);
    let mut g = c.benchmark_group("ledger");
    g.throughput(Throughput::Elements(year.len() as u64));
    g.sample_size(20);
    g.bench_function("year_of_100k_charges", |b| {
        b.iter(|| ledger("bench", 2027, Some("GBP"), black_box(&year)))
    });
    g.bench_function("csv_of_100k_charges", |b| b.iter(|| csv(black_box(&year))));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
