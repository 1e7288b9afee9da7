import Foundation
import Runs
import Skills

// Onset lags between item categories (issue 12, section 3; SCIENCE.md's per-category curves, as Quirke &
// Barez measure for addition): within a task and size, the EM onset of the items with a label against
// those without it, each a curve of its own (the same onset definition, plan section 1), the lag
// u(t50 with) − u(t50 without) with its bootstrap interval (seeds, then items within each category).

extension Builder {
    /// The binary labels worth splitting on, per task (docs/ITEMS.md): a carry or borrow in the ones digit,
    /// and whether the order of the steps changes the answer.
    static let categoryLabels: [(task: String, label: String)] = [
        ("add", "carry"), ("sub", "borrow"), ("double", "carry"), ("order", "order_dependent"),
    ]

    mutating func categoryLags() {
        var rows: [[String]] = []
        for (task, label) in Self.categoryLabels where data.evaluatedTasks.contains(task) {
            for size in itemSizes {
                guard let t = data.outcomes(size: size, task: task, metric: .exactMatch),
                      let table = data.itemTable(size: size, task: task),
                      let values = table.labels[label]?.map(\.intValue) else { continue }
                let with = values.indices.filter { values[$0] == 1 }, without = values.indices.filter { values[$0] == 0 }
                guard !with.isEmpty, !without.isEmpty else {
                    rows.append([task, size, label, String(with.count), String(without.count), "-", "-", "-", "one category is empty"])
                    continue
                }
                let a = t.subset(with, named: "\(task)[\(label)]"), b = t.subset(without, named: "\(task)[no \(label)]")
                let lag = OnsetLag.estimate(a, minus: [b], settings: settings)
                func t50(_ x: TaskOutcomes) -> String {
                    guard let o = try? OnsetReport(x, settings: settings), let times = o.times else { return "no onset" }
                    return times.t50.crossing.isCensored ? "at or before \(x.steps[0])" : stepCell(times.t50.step)
                }
                let verdict: String
                if lag.interval.liesAbove(0) { verdict = "\(label) items later" }
                else if lag.interval.liesAtOrBelow(0) { verdict = "\(label) items not later" }
                else { verdict = "cannot tell" }
                rows.append([task, size, label, String(with.count), String(without.count), t50(a), t50(b), cell(lag), verdict])
            }
        }
        guard !rows.isEmpty else { return }
        var blocks: [ReportSection.Block] = [.text("""
            **Onset lags between item categories.** Per task and size, the items with a label (a ones-digit carry or \
            borrow; an `order` story whose answer depends on the order of its steps) and those without, each its own \
            EM curve with the onset of plan section 1; lag = u(t50 with) − u(t50 without) in decades, 95% bootstrap \
            over seeds and then items within each category. Descriptive: the plan states no verdict rule for it.
            """)]
        addTable(ReportTable(id: "category_lags", title: "EM onset lag between item categories",
                             source: "items/step_*.h5: /<task>/exact_match, /<task>/labels/<label> (1 with, 0 without)",
                             columns: ["task", "size", "label", "items with", "items without", "t50 with (step)", "t50 without (step)",
                                       "lag (decades)", "reading"],
                             rows: rows), into: &blocks)
        sections.append(ReportSection(heading: "3b. Onsets by item category", blocks: blocks))
    }
}

extension TaskOutcomes {
    /// The same curves over a subset of the items (rows in `items` order), under another name so that the
    /// bootstrap draws its items independently of the whole task's.
    func subset(_ items: [Int], named name: String) -> TaskOutcomes {
        var t = self
        t.task = name
        t.runs = runs.map { r in RunOutcomes(seed: r.seed, values: items.map { r.values[$0] }) }
        return t
    }
}
