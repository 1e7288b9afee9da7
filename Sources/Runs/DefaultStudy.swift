/// The study `lens sweep` and `make study` run when no file is given. Sized for a 2-core machine:
/// see README "The default study" for what it brackets and how long it takes.
public enum DefaultStudy {
    public static let yaml = """
    name: default
    tasks: {add: 1, sub: 1, double: 1, order: 1, multistep_pad: 3}
    eval_tasks: [add, sub, double, order, multistep_pad, multistep]
    problem: {max_operand: 19, max_step: 9}
    models:
      - {name: tiny, n_layers: 1, d_model: 16, n_heads: 2, d_mlp: 64}
      - {name: small, n_layers: 2, d_model: 32, n_heads: 4, d_mlp: 128}
      - {name: base, n_layers: 2, d_model: 64, n_heads: 4, d_mlp: 256}
    seeds: [1, 2]
    steps: 4000
    batch: 64
    lr: 0.003
    warmup: 100
    checkpoints: {dense_until: 1000, dense_count: 8, every: 500}
    eval: {n: 200}
    split: {seed: 0, validation: 0.1, test: 0.1}
    """

    public static func spec() -> StudySpec { try! StudySpec.parse(yaml, file: "<embedded default study>") }
}
