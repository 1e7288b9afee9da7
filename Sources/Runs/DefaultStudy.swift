/// The study `lens sweep` and `make study` run when no file is given: three sizes x two seeds on the
/// sub-skills and the scratchpad composite, sized to train in about 6 minutes on 2 cores. The direct
/// composite `multistep` is not evaluated: these models answer in the scratchpad's format, so it scores 0
/// and says nothing; the `cot` study trains and measures it.
/// README "The default study" reports what it reaches.
public enum DefaultStudy {
    public static let yaml = """
    name: default
    tasks: {add: 1, sub: 1.5, double: 0.75, order: 0.35, multistep_pad: 2}
    eval_tasks: [add, sub, double, order, multistep_pad]
    problem: {max_operand: 49, max_step: 29, max_result: 99}
    models:
      - {name: tiny, n_layers: 1, d_model: 16, n_heads: 2, d_mlp: 64}
      - {name: small, n_layers: 2, d_model: 32, n_heads: 2, d_mlp: 128}
      - {name: base, n_layers: 2, d_model: 64, n_heads: 8, d_mlp: 256}
    seeds: [1, 2]
    steps: 7000
    batch: 64
    lr: 0.008
    warmup: 100
    weight_decay: 0.1
    checkpoints: {dense_until: 1000, dense_count: 6, every: 500}
    eval: {n: 150}
    split: {seed: 0, validation: 0.1, test: 0.1}
    """

    public static func spec() -> StudySpec { try! StudySpec.parse(yaml, file: "<embedded default study>") }
}

/// The chain-of-thought comparison: the default study's sizes and mixture with the direct composite
/// `multistep` in place of the scratchpad's `multistep_pad` (never both in one model: they share their
/// prompts, so one model would get two targets for one prompt), three seeds, and the longer training the
/// direct form needs (SCIENCE.md: still at 0.17 exact match after 7000 steps, rising): 20000 steps, with
/// a checkpoint every 1000 so that both studies are evaluated at the default study's steps. Sized to what
/// one 2-core machine trains in well under an hour (README "The cot study": 24 min for the sweep); a
/// cluster can afford more.
public enum CotStudy {
    public static let yaml = """
    name: cot
    tasks: {add: 1, sub: 1.5, double: 0.75, order: 0.35, multistep: 2}
    eval_tasks: [add, sub, double, order, multistep]
    problem: {max_operand: 49, max_step: 29, max_result: 99}
    models:
      - {name: tiny, n_layers: 1, d_model: 16, n_heads: 2, d_mlp: 64}
      - {name: small, n_layers: 2, d_model: 32, n_heads: 2, d_mlp: 128}
      - {name: base, n_layers: 2, d_model: 64, n_heads: 8, d_mlp: 256}
    seeds: [1, 2, 3]
    steps: 20000
    batch: 64
    lr: 0.008
    warmup: 100
    weight_decay: 0.1
    checkpoints: {dense_until: 1000, dense_count: 6, every: 1000}
    eval: {n: 150}
    split: {seed: 0, validation: 0.1, test: 0.1}
    """
}

/// The default study sized for a cluster (`lens study --study extended --slurm`): five sizes, so that the
/// findings report's size fits (SCIENCE.md; the plan needs at least 4 sizes) have their data; five seeds,
/// so that its seed intervals mean something; and 20000 steps with a checkpoint every 1000, like the cot
/// study. The sizes add `medium` (3 layers, d_model 96) and `large` (4 layers, d_model 128) above the
/// default study's three. 25 runs; README "Running on Slurm" states what it costs on one 2-core machine.
public enum ExtendedStudy {
    public static let models = """
    models:
      - {name: tiny, n_layers: 1, d_model: 16, n_heads: 2, d_mlp: 64}
      - {name: small, n_layers: 2, d_model: 32, n_heads: 2, d_mlp: 128}
      - {name: base, n_layers: 2, d_model: 64, n_heads: 8, d_mlp: 256}
      - {name: medium, n_layers: 3, d_model: 96, n_heads: 8, d_mlp: 384}
      - {name: large, n_layers: 4, d_model: 128, n_heads: 8, d_mlp: 512}
    seeds: [1, 2, 3, 4, 5]
    steps: 20000
    batch: 64
    lr: 0.008
    warmup: 100
    weight_decay: 0.1
    checkpoints: {dense_until: 1000, dense_count: 6, every: 1000}
    eval: {n: 150}
    split: {seed: 0, validation: 0.1, test: 0.1}
    """
    public static let yaml = """
    name: extended
    tasks: {add: 1, sub: 1.5, double: 0.75, order: 0.35, multistep_pad: 2}
    eval_tasks: [add, sub, double, order, multistep_pad]
    problem: {max_operand: 49, max_step: 29, max_result: 99}

    """ + models

    /// The same sizes, seeds and schedule with the direct-answer composite `multistep` (as the cot study:
    /// one model never learns both forms of a prompt), for the report's direct-against-scratchpad section:
    /// `lens study --study extended-cot --compare <extended study dir>`.
    public static let cotYAML = """
    name: extended-cot
    tasks: {add: 1, sub: 1.5, double: 0.75, order: 0.35, multistep: 2}
    eval_tasks: [add, sub, double, order, multistep]
    problem: {max_operand: 49, max_step: 29, max_result: 99}

    """ + models
}

/// The studies shipped in the binary, by name (`lens study --study NAME`, `lens sweep --study NAME`).
public enum ShippedStudies {
    public static let all: [(name: String, yaml: String)] = [
        ("default", DefaultStudy.yaml), ("cot", CotStudy.yaml), ("extended", ExtendedStudy.yaml), ("extended-cot", ExtendedStudy.cotYAML),
    ]

    public static func named(_ name: String) -> StudySpec? {
        all.first { $0.name == name }.map { try! StudySpec.parse($0.yaml, file: "<embedded \($0.name) study>") }
    }
}
