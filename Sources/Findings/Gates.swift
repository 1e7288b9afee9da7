// Section 0's guards, applied before a rule reads its numbers.
//
// Seeds: a claim about a size (sections 3-6 over sizes) rests on seed variation. With 2 seeds the
// resamples do draw seeds and the plan issues the verdict with the caveat "intervals over items only in
// effect"; with 1 seed there is no seed variation at all, so such a claim is not decided (inconclusive).
// Per-run claims (section 3 over training, section 7) need no seeds.
//
// Items: "a rate whose interval is wider than the difference a rule needs cannot decide that rule". The
// difference each rule needs is stated where the gate is called: 0.1 for section 3's "near chance"
// margin, 0.5 (f − c) for an onset (its level's distance from chance and from f), 0.1 (f − c) for a
// width (the 10% and 90% levels' distance from chance and from f).

enum Gates {
    /// Caveats from the seed count; `blocks` when a size claim cannot be decided.
    static func seeds(_ t: TaskOutcomes) -> (blocks: Bool, caveats: [Caveat]) {
        switch t.runs.count {
        case ..<2: return (true, [.singleSeed(group: t.group)])
        case 2: return (false, [.fewSeeds(group: t.group, seeds: 2)])
        default: return (false, [])
        }
    }

    /// An onset at or before the first checkpoint, on the data or in more than 5% of resamples: such
    /// resamples enter the lag at the first checkpoint, so a lag is then only a bound. A lag "later minus
    /// earlier" with a censored later onset is an upper bound (it cannot show "precedes"); with a censored
    /// earlier onset, a lower bound (it cannot show "does not precede").
    static func censored(_ onset: OnsetReport) -> Bool {
        guard let t50 = onset.t50 else { return false }
        return t50.crossing.isCensored || t50.censoredShare > 0.05
    }

    /// A caveat when `t`'s n items cannot resolve `needed`; nil when they can.
    static func items(_ t: TaskOutcomes, needed: Double) -> Caveat? {
        let r = RateResolution(items: t.itemCount)
        if r.resolves(needed) { return nil }
        return .itemResolution(task: t.task, group: t.group, items: t.itemCount, width: r.width, needed: needed)
    }

    /// The item gate of a rule on `onset`'s crossings at `fraction` of its rise from chance or from f:
    /// 0.5 for onsets, 0.1 for widths.
    static func items(_ onset: OnsetReport, fraction: Double) -> Caveat? {
        let needed = fraction * max(onset.rise.point ?? 0, 0)
        if onset.resolution.resolves(needed) { return nil }
        return .itemResolution(task: onset.task, group: onset.group, items: onset.resolution.items,
                               width: onset.resolution.width, needed: needed)
    }
}
