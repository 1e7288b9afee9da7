import Foundation
import Testing
import TestSupport
@testable import ActivationStore

/// h5py (the Python users' reader) must read every dataset and attribute without special handling.
@Suite struct InteropTests {
    static let script = #"""
import json, sys
import h5py
out = {"attrs": {}, "datasets": {}, "values": {}}
with h5py.File(sys.argv[1], "r") as f:
    for k, v in f.attrs.items():
        out["attrs"][k] = [type(v).__name__, v if isinstance(v, str) else repr(v)]
    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            out["datasets"]["/" + name] = {"shape": list(obj.shape), "dtype": str(obj.dtype),
                "maxshape": [m for m in obj.maxshape], "chunks": list(obj.chunks) if obj.chunks else None,
                "compression": obj.compression, "string": h5py.check_string_dtype(obj.dtype) is not None}
    f.visititems(visit)
    v = out["values"]
    v["prompts_raw_type"] = type(f["prompts"][0]).__name__ if len(f["prompts"]) else None
    v["prompts"] = list(f["prompts"].asstr()[:])
    v["tasks"] = list(f["tasks"].asstr()[:])
    v["tokens"] = f["tokens"][:].tolist()
    v["lengths"] = f["lengths"][:].tolist()
    v["operand"] = f["labels/operand"][:].tolist()
    v["carry"] = f["labels/carry"][:].tolist()
    v["answer_start"] = f["positions/answer_start"][:].tolist()
    v["resid_1_2"] = f["activations/blocks.0.hook_resid_post"][1, 2, :].tolist()
    v["pattern_2_1_3"] = f["activations/blocks.0.attn.hook_pattern"][2, 1, 3, :].tolist()
    v["vocab"] = json.loads(f.attrs["vocab"])
print(json.dumps(out))
"""#

    struct Out: Decodable {
        struct DS: Decodable, Equatable {
            var shape: [Int]; var dtype: String; var maxshape: [Int?]; var chunks: [Int]?
            var compression: String?; var string: Bool
        }
        struct Values: Decodable {
            var prompts_raw_type: String?; var prompts: [String]; var tasks: [String]; var tokens: [[Int32]]
            var lengths: [Int32]; var operand: [Int32]; var carry: [Float]; var answer_start: [Int32]
            var resid_1_2: [Float]; var pattern_2_1_3: [Float]; var vocab: [String]
        }
        var attrs: [String: [String]]
        var datasets: [String: DS]
        var values: Values
    }

    @Test(arguments: [false, true])
    func h5pyReadsWhatSwiftWrote(compress: Bool) throws {
        // Missing h5py is a failure with the fix, never a silent skip.
        let (probe, _, probeErr) = try runPython(["-c", "import h5py, numpy"])
        try #require(probe == 0, "\(interopPython().python) cannot import h5py (\(probeErr.split(separator: "\n").last ?? "")): run `apt-get install python3-h5py`")

        let dir = try TempDir("store-interop")
        defer { withExtendedLifetime(dir) {} }   // the directory is removed when `dir` goes
        let path = dir.path("interop.h5")
        let fx = Fixture(n: 4)
        try fx.write(path, compress: compress)
        let (status, stdout, stderr) = try runPython(["-c", Self.script, path])
        try #require(status == 0, "h5py script failed: \(stderr)")
        let out = try JSONDecoder().decode(Out.self, from: Data(stdout.utf8))

        // Attributes: all plain `str`.
        let a = Fixture.attributes
        let want: [String: [String]] = [
            "format": ["str", FileAttributes.currentFormat], "config": ["str", a.config], "run": ["str", a.run],
            "step": ["str", "1200"], "seed": ["str", "18446744073709551615"], "tasks": ["str", #"["add","compare"]"#],
            "vocab": ["str", try jsonList(a.vocab)],
        ]
        #expect(out.attrs == want)
        #expect(out.values.vocab == Fixture.vocab)

        // Names, shapes, dtypes, layout.
        #expect(Set(out.datasets.keys) == Set(["/tokens", "/lengths", "/prompts", "/tasks", "/positions/answer_start",
            "/positions/equals", "/labels/operand", "/labels/carry", "/activations/blocks.0.hook_resid_post",
            "/activations/blocks.0.attn.hook_pattern", "/activations/blocks.0.mlp.hook_post"]))
        let gz = compress ? "gzip" : nil
        #expect(out.datasets["/tokens"] == .init(shape: [4, 5], dtype: "int32", maxshape: [nil, 5], chunks: [1024, 5], compression: gz, string: false))
        #expect(out.datasets["/prompts"]?.string == true && out.datasets["/prompts"]?.dtype == "object")
        #expect(out.datasets["/labels/carry"]?.dtype == "float32")
        #expect(out.datasets["/labels/operand"]?.dtype == "int32")
        #expect(out.datasets["/activations/blocks.0.attn.hook_pattern"] ==
                .init(shape: [4, 2, 5, 5], dtype: "float32", maxshape: [nil, 2, 5, 5], chunks: [2, 2, 5, 5], compression: gz, string: false))
        #expect(out.datasets["/activations/blocks.0.hook_resid_post"]?.shape == [4, 5, 3])

        // Values.
        let rows = 0..<4
        #expect(out.values.prompts_raw_type == "bytes")   // h5py 3: vlen str datasets read as bytes; .asstr() gives str
        #expect(out.values.prompts == rows.map(fx.prompt))
        #expect(out.values.tasks == rows.map(fx.task))
        #expect(out.values.tokens == rows.map(fx.tokens))
        #expect(out.values.lengths == rows.map(fx.length))
        #expect(out.values.operand == rows.map(fx.operand))
        #expect(out.values.carry == rows.map(fx.carry))
        #expect(out.values.answer_start == rows.map(fx.answerStart))
        #expect(out.values.resid_1_2 == Array(fx.hookRow(0, 1)[6..<9]))
        let p = fx.hookRow(1, 2)  // [heads=2, 5, 5]; [1, 3, :] starts at 1*25 + 3*5
        #expect(out.values.pattern_2_1_3 == Array(p[40..<45]))
    }
}
