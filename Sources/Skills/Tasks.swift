// The task registry: names map to generators. New tasks plug in by conforming to SkillTask and
// being listed here (their position in `names` becomes label `task_id`).

public enum Tasks {
    public static let names = ["add", "sub", "double", "order", "multistep", "multistep_pad"]

    public static func all(config: TaskConfig = TaskConfig()) -> [any SkillTask] {
        [
            ArithmeticTask(.add, config: config),
            ArithmeticTask(.sub, config: config),
            ArithmeticTask(.double, config: config),
            OrderTask(config: config),
            MultistepTask(scratchpad: false, config: config),
            MultistepTask(scratchpad: true, config: config),
        ]
    }

    public static func named(_ name: String, config: TaskConfig = TaskConfig()) throws(SkillsError) -> any SkillTask {
        try config.validate()
        guard let task = all(config: config).first(where: { $0.name == name }) else {
            throw .unknownTask(name, known: names)
        }
        return task
    }
}
