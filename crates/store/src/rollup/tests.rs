use super::*;

#[test]
fn buckets_keep_seconds_then_minutes_then_hours() {
    assert_eq!(bucket(61_999), 61_000);
    assert_eq!(bucket(HOUR_MS - 1), HOUR_MS - 1000);
    assert_eq!(bucket(HOUR_MS + 59_999), HOUR_MS);
    assert_eq!(bucket(DAY_MS + HOUR_MS + 5), DAY_MS + HOUR_MS);
}

#[test]
fn each_range_of_whole_hours_holds_a_conversation_once() {
    // Customer messages in hours 0, 1, 25 and 26 (days 0 and 1).
    let hours: Vec<i64> = [0, 1, 25, 26].iter().map(|h| h * HOUR_MS).collect();
    let segs = segments(None, &hours);
    assert_eq!(segs.len(), 6);
    for a in 0..30 {
        for b in (a + 1)..31 {
            let (a, b) = (a * HOUR_MS, b * HOUR_MS);
            let inside = hours.iter().any(|h| *h >= a && *h < b);
            let hourly = segs
                .iter()
                .filter(|s| s.grain == HOURLY && s.unit >= a && s.unit < b && s.prev < a)
                .count();
            assert_eq!(hourly, usize::from(inside), "{a} {b}");
            // Whole days inside, hours at the edges.
            let plan = Plan::new(a, b);
            let count = segs
                .iter()
                .filter(|s| {
                    let unit_in = if s.grain == HOURLY {
                        (s.unit >= plan.h_a && s.unit < plan.d_a)
                            || (s.unit >= plan.d_b && s.unit < plan.h_b)
                    } else {
                        s.unit >= plan.d_a && s.unit < plan.d_b
                    };
                    unit_in && s.prev < plan.h_a
                })
                .count();
            assert_eq!(count, usize::from(inside), "{a} {b} {plan:?}");
        }
    }
}

#[test]
fn plans_split_ranges_into_hours_and_days() {
    let p = Plan::new(HOUR_MS / 2, 3 * DAY_MS + HOUR_MS / 2);
    assert_eq!(
        (p.exact, p.h_a, p.d_a, p.d_b, p.h_b),
        (false, HOUR_MS, DAY_MS, 3 * DAY_MS, 3 * DAY_MS)
    );
    let p = Plan::new(10, HOUR_MS + 5);
    assert!(p.exact);
    let p = Plan::new(0, 5 * HOUR_MS);
    assert_eq!(
        (p.d_a, p.d_b, p.h_b),
        (5 * HOUR_MS, 5 * HOUR_MS, 5 * HOUR_MS)
    );
}

#[test]
fn a_customer_hour_in_between_moves_the_next_segment() {
    let mut p = Pending::default();
    // Hours 1 and 30 known; hour 2 arrives late.
    p.customer_hour(Some(HOUR_MS), 2 * HOUR_MS, Some(30 * HOUR_MS));
    let mut direct = Pending::default();
    for s in segments(None, &[HOUR_MS, 30 * HOUR_MS]) {
        direct.segs.entry(s).or_default().customers -= 1;
    }
    for s in segments(None, &[HOUR_MS, 2 * HOUR_MS, 30 * HOUR_MS]) {
        direct.segs.entry(s).or_default().customers += 1;
    }
    let a: Vec<_> = p.segs().collect();
    let b: Vec<_> = direct.segs().collect();
    assert_eq!(a, b);
}

#[test]
fn queue_series_adds_hours_and_the_partial_one() {
    let instants = queue_instants(0, 3 * HOUR_MS + 10, i64::MAX);
    assert_eq!(
        instants,
        vec![HOUR_MS, 2 * HOUR_MS, 3 * HOUR_MS, 3 * HOUR_MS + 10]
    );
    let hours = [(0, 2), (HOUR_MS, -1), (2 * HOUR_MS, 3)];
    let got = queue_series(&instants, 0, &hours, |_| Ok(-2)).expect("series");
    let lengths: Vec<u64> = got.iter().map(|p| p.length).collect();
    assert_eq!(lengths, vec![2, 1, 4, 2]);
    // Long ranges: one point a day, at most ~400.
    assert_eq!(queue_instants(0, 30 * DAY_MS, i64::MAX).len(), 30);
    assert!(queue_instants(0, 3000 * DAY_MS, i64::MAX).len() <= 400);
    assert_eq!(queue_instants(0, 30 * DAY_MS, 5 * DAY_MS).len(), 5);
}

#[test]
fn percentiles_use_the_nearest_rank_over_counts() {
    let mut parts = Parts::default();
    parts.waits.insert(1000, 1);
    parts.waits.insert(2000, 1);
    let s = parts.into_summary(0, 1, vec![], vec![], vec![]);
    assert_eq!(s.first_response_secs.median, Some(1.0));
    assert_eq!(s.first_response_secs.p90, Some(2.0));
}
