//! Properties over generated schedules.

use super::*;

fn money_strategy(max_cents: i64) -> impl Strategy<Value = Decimal> {
    (0..=max_cents).prop_map(|c| Decimal::new(c, 2))
}

prop_compose! {
    fn schedule_strategy()(
        rents in prop::collection::vec(money_strategy(1_000_000), 7),
        base in money_strategy(100_000),
        included in 0u32..8,
        per in money_strategy(50_000),
        multipliers in prop::collection::vec(0i64..=400, 3),
        continuous in money_strategy(50_000),
        part_night in money_strategy(50_000),
        survey in prop::option::of((money_strategy(50_000), 0u32..30)),
        discount in money_strategy(100_000),
        indexation in 0i64..=150,
        share in 0i64..=100,
        pole in prop::option::of(money_strategy(500_000)),
        service in prop::option::of(money_strategy(20_000)),
    ) -> FeeSchedule {
        FeeSchedule {
            currency: "GBP".into(),
            effective_from: time::macros::date!(2027 - 04 - 01),
            application_fee: ApplicationFee {
                base,
                sites_included: included,
                per_additional_site: per,
            },
            annual_rent: AssetKind::ALL
                .iter()
                .zip(rents)
                .map(|(k, r)| (k.as_str().to_string(), r))
                .collect(),
            zone_multipliers: ["a", "b", "c"]
                .iter()
                .zip(multipliers)
                .map(|(z, m)| (z.to_string(), Decimal::new(m, 2)))
                .collect(),
            power_annual: [
                ("continuous".to_string(), continuous),
                ("part_night".to_string(), part_night),
            ]
            .into(),
            structural_survey: survey
                .map(|(fee, years)| StructuralSurvey { fee, if_older_than_years: years }),
            shared_site_discount: discount,
            annual_indexation: Decimal::new(indexation, 3),
            subsidy_share: Decimal::new(share, 2),
            new_pole_fee: pole,
            service_charge_annual: service,
        }
    }
}

prop_compose! {
    fn site_strategy()(
        kind in prop::sample::select(AssetKind::ALL.to_vec()),
        zone in prop::option::of(prop::sample::select(vec!["a", "b", "c", "elsewhere"])),
        power in prop::sample::select(PowerSupply::ALL.to_vec()),
        install_year in prop::option::of(1950i32..2040),
        shared in any::<bool>(),
        new_structure in any::<bool>(),
    ) -> QuoteSite {
        QuoteSite {
            asset_id: String::new(),
            kind,
            fee_zone: zone.map(str::to_string),
            power_supply: power,
            install_year,
            shared,
            new_structure,
        }
    }
}

proptest! {
    #[test]
    fn year_table_sums_to_the_totals(
        schedule in schedule_strategy(),
        sites in prop::collection::vec(site_strategy(), 1..12),
        term_years in 1u32..=MAX_TERM_YEARS,
        rate in prop::option::of(0i64..=200),
    ) {
        let sites: Vec<QuoteSite> = sites.into_iter().enumerate()
            .map(|(i, s)| QuoteSite { asset_id: format!("s{i}"), ..s })
            .collect();
        let t = QuoteTerms {
            term_years,
            start: time::macros::date!(2027 - 04 - 01),
            discount_rate: rate.map(|r| Decimal::new(r, 3)),
        };
        let q = quote("x", &schedule, 1, &sites, &t).unwrap();
        prop_assert_eq!(q.years.len() as u32, term_years);
        prop_assert_eq!(q.years.iter().map(|y| y.rent).sum::<Decimal>(), q.rent_total);
        prop_assert_eq!(q.years.iter().map(|y| y.subsidy).sum::<Decimal>(), q.subsidy_total);
        prop_assert_eq!(q.term_total, q.one_off_total + q.rent_total);
        let one_off: Decimal =
            q.lines.iter().filter(|l| !l.is_annual()).map(QuoteLine::amount).sum();
        prop_assert_eq!(one_off, q.one_off_total);
        let year_one: Decimal = sites.iter().map(|s| annual_fee(&schedule, s)).sum();
        prop_assert_eq!(year_one, q.years[0].rent);
        let annual: Decimal =
            q.lines.iter().filter(|l| l.is_annual()).map(QuoteLine::amount).sum();
        prop_assert_eq!(annual, q.years[0].rent);
        for (i, y) in q.years.iter().enumerate() {
            prop_assert_eq!(y.year as usize, i + 1);
            prop_assert!(y.subsidy >= Decimal::ZERO && y.subsidy <= y.rent);
            prop_assert!(y.rent.normalize().scale() <= 2 && y.subsidy.normalize().scale() <= 2);
            if i > 0 {
                prop_assert!(y.rent >= q.years[i - 1].rent);
            }
        }
        prop_assert_eq!(q.npv.is_some(), rate.is_some());
        if let Some(npv) = q.npv {
            prop_assert!(npv <= q.rent_total && npv >= Decimal::ZERO);
        }
        let again = quote("x", &schedule, 1, &sites, &t).unwrap();
        prop_assert_eq!(&again, &q);
    }
}
