// The one place where label and position names are defined and explained.
//
// Every example carries every label and every position, so a mixed batch of tasks can be written as
// one table (HDF5 `/labels/<name>`). The value -1 means "not applicable to this item".
//
// Conventions
// - Steps are numbered in TEMPORAL order (step 1 happens first), not in the order they are told.
// - Operations: 0 = add, 1 = sub, 2 = double (see StepOperation).
// - Positions index the encoded sequence `<bos> prompt answer <eos>`: BOS is 0, prompt character i
//   is at i + 1. The position of a number is the position of its LAST digit; of a word, its last letter.

public enum LabelCatalog {
    /// (name, meaning) of every label, in a stable order.
    public static let labels: [(name: String, meaning: String)] = [
        ("task_id", "index of the task in Tasks.names (add, sub, double, order, multistep, multistep_pad)"),
        ("num_steps", "number of operations in the item (1 for add/sub/double, 2 or 3 for stories)"),
        ("operand_a", "first number of a binary arithmetic item (a in a+b=, a-b=, a*2=)"),
        ("operand_b", "second number of a binary arithmetic item (b; 2 for double)"),
        ("start", "start value of a multistep story (had S.)"),
        ("step1_value", "number of temporal step 1 (k in add k / sub k); -1 for double, which has none"),
        ("step2_value", "number of temporal step 2; -1 for double"),
        ("step3_value", "number of temporal step 3 (3-step order stories); -1 for double"),
        ("op1", "operation of temporal step 1: 0 add, 1 sub, 2 double"),
        ("op2", "operation of temporal step 2"),
        ("op3", "operation of temporal step 3 (3-step order stories only)"),
        ("step1_clause", "told position (0-based clause index in the text) of temporal step 1"),
        ("step2_clause", "told position of temporal step 2"),
        ("step3_clause", "told position of temporal step 3"),
        ("template", "story template: 0 absolute order words (first/later/final), 1 relative (after/prior)"),
        ("told_out_of_order", "1 if the text tells the steps in a different order than they happen"),
        ("order_dependent", "1 if performing the steps in another order would change the answer"),
        ("intermediate", "value after temporal step 1 of a multistep story"),
        ("answer", "final numeric answer (-1 for the order task, whose answer is symbols)"),
        ("answer_hundreds", "hundreds digit of the numeric answer (0 when the answer is shorter)"),
        ("answer_tens", "tens digit of the numeric answer (0 when the answer is shorter)"),
        ("answer_ones", "ones digit of the numeric answer"),
        ("answer_digits", "number of digits of the numeric answer"),
        ("carry", "1 if some add/double step carries out of the ones digit; -1 if no add/double step"),
        ("borrow", "1 if some sub step borrows into the ones digit; -1 if no sub step"),
    ]

    /// (name, meaning) of every named position.
    public static let positions: [(name: String, meaning: String)] = [
        ("equals", "last prompt token (the = or ?) right before the answer"),
        ("answer_start", "first answer token"),
        ("answer_end", "last answer token (inclusive)"),
        ("eos", "the <eos> token"),
        ("separator", "the ; between the two equations of a scratchpad answer"),
        ("step1_equals", "the = of the scratchpad's first equation (next token: the intermediate)"),
        ("step2_equals", "the = of the scratchpad's second equation (next token: the final answer)"),
        ("pos_operand_a", "last digit of operand_a"),
        ("pos_operand_b", "last digit of operand_b"),
        ("pos_start", "last digit of the start value"),
        ("pos_step1_value", "last digit of the number of temporal step 1"),
        ("pos_step2_value", "last digit of the number of temporal step 2"),
        ("pos_step3_value", "last digit of the number of temporal step 3"),
        ("pos_op1", "last character of the operation word/symbol of temporal step 1"),
        ("pos_op2", "last character of the operation word of temporal step 2"),
        ("pos_op3", "last character of the operation word of temporal step 3"),
        ("pos_marker1", "last letter of the order word attached to temporal step 1 (-1 if it has none)"),
        ("pos_marker2", "last letter of the order word attached to temporal step 2"),
        ("pos_marker3", "last letter of the order word attached to temporal step 3"),
    ]

    public static var labelNames: [String] { labels.map(\.name) }
    public static var positionNames: [String] { positions.map(\.name) }

    /// All labels set to -1: tasks start from this and fill in what applies.
    public static let emptyLabels: [String: LabelValue] =
        Dictionary(uniqueKeysWithValues: labels.map { ($0.name, LabelValue.int32(-1)) })

    /// All positions set to -1.
    public static let emptyPositions: [String: Int] =
        Dictionary(uniqueKeysWithValues: positions.map { ($0.name, -1) })
}

/// Fills the answer-derived labels shared by all numeric tasks.
func setAnswerLabels(_ labels: inout [String: LabelValue], answer: Int) {
    labels["answer"] = .int32(Int32(answer))
    labels["answer_ones"] = .int32(Int32(answer % 10))
    labels["answer_tens"] = .int32(Int32(answer / 10 % 10))
    labels["answer_hundreds"] = .int32(Int32(answer / 100 % 10))
    labels["answer_digits"] = .int32(Int32(String(answer).count))
}

extension Dictionary where Key == String, Value == LabelValue {
    /// Sets an integer label; `nil` stores -1 ("not applicable").
    mutating func set(_ name: String, _ value: Int?) {
        precondition(LabelCatalog.emptyLabels[name] != nil, "label \(name) is not in LabelCatalog")
        self[name] = .int32(Int32(value ?? -1))
    }
}
