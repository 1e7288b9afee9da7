// Sizes of the generated problems, so a study can scale difficulty without touching generators.
// One number range for everything (0...maxResult): every equation a story needs on the way to its
// answer (`14-3=11`) is an item the arithmetic tasks can draw, so the composite needs no arithmetic
// its sub-skills never practise. Defaults keep every sequence within 64 tokens.

public struct TaskConfig: Sendable, Codable, Equatable {
    /// Largest start value of stories (`had S.`; smallest is 0).
    public var maxOperand: Int
    /// Largest k in story steps "add k" / "sub k" (smallest is 1, so no step is a no-op).
    public var maxStep: Int
    /// Largest number anywhere: arithmetic operands and results, story intermediates and answers.
    /// Items leaving 0...maxResult are rejected and redrawn.
    public var maxResult: Int
    /// Story templates to draw from; restrict this to hold a template out.
    public var templates: [StoryTemplate]
    /// Step counts of order-task stories (2 and/or 3).
    public var orderStepCounts: [Int]

    public init(maxOperand: Int = 49, maxStep: Int = 29, maxResult: Int = 99,
                templates: [StoryTemplate] = StoryTemplate.allCases, orderStepCounts: [Int] = [2, 3]) {
        self.maxOperand = maxOperand
        self.maxStep = maxStep
        self.maxResult = maxResult
        self.templates = templates
        self.orderStepCounts = orderStepCounts
    }

    /// Checks the ranges make at least one item of every task possible.
    public func validate() throws(SkillsError) {
        if maxOperand < 0 { throw .invalidConfig("maxOperand \(maxOperand) < 0") }
        if maxStep < 1 { throw .invalidConfig("maxStep \(maxStep) < 1") }
        if maxResult < maxOperand { throw .invalidConfig("maxResult \(maxResult) < maxOperand \(maxOperand): most items would be rejected") }
        if maxResult < maxStep { throw .invalidConfig("maxResult \(maxResult) < maxStep \(maxStep): most items would be rejected") }
        if templates.isEmpty { throw .invalidConfig("templates is empty") }
        if orderStepCounts.isEmpty || orderStepCounts.contains(where: { $0 != 2 && $0 != 3 }) {
            throw .invalidConfig("orderStepCounts \(orderStepCounts) must be a non-empty subset of [2, 3]")
        }
        if !templates.contains(.absolute) && !orderStepCounts.contains(2) {
            throw .invalidConfig("3-step order stories need the absolute template")
        }
    }
}
