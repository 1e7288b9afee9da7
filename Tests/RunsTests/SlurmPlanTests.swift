import Foundation
import Testing
import Runs

/// The Slurm plan without Slurm: which jobs, which array indices, which afterok chain, what each script
/// runs. `make test-slurm` submits such plans to a real slurmctld.
@Suite struct SlurmPlanTests {
    static let options = SlurmPlan.Options(partition: "cpu", time: "1:00:00", cpusPerTask: 2, mem: "4G", lens: "/opt/lens/bin/lens")
    static let runs = ["tiny-s1", "tiny-s2", "base-s1", "base-s2"]

    func plan(finished: Set<Int> = [], withStages: Bool = true, flags: [String] = []) -> SlurmPlan {
        SlurmPlan(dir: "/shared/st", studyName: "st", study: "/shared/st/slurm/study.yaml", runs: Self.runs, finished: finished,
                  withStages: withStages, studyFlags: flags, options: Self.options)
    }

    @Test func aStudyIsATrainingArrayThenAnAfterokChain() {
        let p = plan()
        #expect(p.jobs.map(\.stage) == ["train", "dump", "probes", "patching", "circuits", "report"])
        #expect(p.jobs.map(\.after) == [nil, "train", "dump", "probes", "patching", "circuits"])
        #expect(p.jobs[0].array == [0, 1, 2, 3] && p.jobs[1].array == [0, 1, 2, 3])
        #expect(p.jobs.dropFirst(2).allSatisfy { $0.array == nil }, "probes, patching, circuits and report are one job each")
        #expect(p.commandLines == [
            "train=$(sbatch --parsable --array=0-3 /shared/st/slurm/train.sbatch)",
            "dump=$(sbatch --parsable --array=0-3 --dependency=afterok:$train /shared/st/slurm/dump.sbatch)",
            "probes=$(sbatch --parsable --dependency=afterok:$dump /shared/st/slurm/probes.sbatch)",
            "patching=$(sbatch --parsable --dependency=afterok:$probes /shared/st/slurm/patching.sbatch)",
            "circuits=$(sbatch --parsable --dependency=afterok:$patching /shared/st/slurm/circuits.sbatch)",
            "report=$(sbatch --parsable --dependency=afterok:$circuits /shared/st/slurm/report.sbatch)",
        ])
        #expect(SlurmPlan.sbatchArguments(p.jobs[1], ids: ["train": "417"])
                == ["sbatch", "--parsable", "--array=0-3", "--dependency=afterok:417", "/shared/st/slurm/dump.sbatch"])
    }

    @Test func theScriptsRunLensWithTheJobsCPUsAsThreads() {
        let p = plan(flags: ["--full", "--compare", "/shared/other dir"])
        let train = p.jobs[0].script
        for line in ["#!/bin/bash", "#SBATCH --job-name=lens-st-train", "#SBATCH --output=/shared/st/slurm/logs/train-%a.out",
                     "#SBATCH --error=/shared/st/slurm/logs/train-%a.err", "#SBATCH --cpus-per-task=2", "#SBATCH --partition=cpu",
                     "#SBATCH --time=1:00:00", "#SBATCH --mem=4G", "#SBATCH --requeue", "runs=(tiny-s1 tiny-s2 base-s1 base-s2)",
                     "run=${runs[$SLURM_ARRAY_TASK_ID]}",
                     "exec /opt/lens/bin/lens sweep --study /shared/st/slurm/study.yaml --out /shared/st --run \"$run\" --jobs 1 --threads 2"] {
            #expect(train.components(separatedBy: "\n").contains(line), "train.sbatch lacks \(line):\n\(train)")
        }
        #expect(p.jobs[1].script.contains("exec /opt/lens/bin/lens study --study /shared/st/slurm/study.yaml --out /shared/st --stage dump --run \"$run\" --full --compare '/shared/other dir' --jobs 1 --threads 2\n"))
        #expect(p.jobs[5].script.contains("--stage report --full --compare '/shared/other dir' --jobs 1 --threads 2\n"))
        #expect(p.jobs[5].script.contains("#SBATCH --output=/shared/st/slurm/logs/report.out"))
        #expect(!p.jobs[5].script.contains("SLURM_ARRAY_TASK_ID"))
    }

    @Test func onlyTheUnfinishedRunsAreTrainedAgain() {
        let p = plan(finished: [0, 2])
        #expect(p.jobs[0].array == [1, 3])
        #expect(p.commandLines[0] == "train=$(sbatch --parsable --array=1,3 /shared/st/slurm/train.sbatch)")
        #expect(p.jobs[1].array == [0, 1, 2, 3], "every run is dumped (a dump already made is kept)")
        let trained = plan(finished: [0, 1, 2, 3])
        #expect(trained.jobs.map(\.stage) == ["dump", "probes", "patching", "circuits", "report"])
        #expect(trained.jobs[0].after == nil && trained.commandLines[0] == "dump=$(sbatch --parsable --array=0-3 /shared/st/slurm/dump.sbatch)")
        #expect(plan(finished: [0, 1, 2, 3], withStages: false).jobs.isEmpty, "a trained sweep has nothing to submit")
    }

    @Test func aSweepIsTheTrainingArrayAlone() {
        let p = plan(finished: [1], withStages: false)
        #expect(p.jobs.map(\.stage) == ["train"])
        #expect(p.commandLines == ["train=$(sbatch --parsable --array=0,2-3 /shared/st/slurm/train.sbatch)"])
        #expect(p.jobs[0].script.contains("# lens sweep --slurm: array task K trains run K"))
    }

    @Test func arrayRangesAndQuoting() {
        #expect(SlurmPlan.arrayRange([0]) == "0")
        #expect(SlurmPlan.arrayRange([5, 0, 1, 2, 7, 8]) == "0-2,5,7-8")
        #expect(SlurmPlan.quote("/a/b-c_d.yaml") == "/a/b-c_d.yaml")
        #expect(SlurmPlan.quote("it's here") == "'it'\\''s here'")
        #expect(SlurmPlan.quote("$HOME") == "'$HOME'")
    }

    @Test func optionsSlurmWouldRejectAreOneLineErrors() throws {
        func error(_ o: SlurmPlan.Options) -> String? {
            do { try o.check(); return nil } catch { return error.description }
        }
        let ok = SlurmPlan.Options(lens: "lens")
        for time in ["30", "30:00", "1:30:00", "2-12", "2-12:30", "2-12:30:00", "UNLIMITED"] {
            var o = ok; o.time = time
            #expect(error(o) == nil, "\(time)")
        }
        for time in ["1h", "", "1:2:3:4", "-5", "1-", "a-1", "1-2-3"] {
            var o = ok; o.time = time
            #expect(error(o)?.hasPrefix("--time \(time): not a Slurm time") == true, "\(time)")
        }
        for (mem, good) in [("4G", true), ("4000", true), ("512M", true), ("4GB", false), ("G", false), ("-1", false)] {
            var o = ok; o.mem = mem
            #expect((error(o) == nil) == good, "\(mem)")
        }
        var o = ok; o.partition = "cpu;rm -rf"
        #expect(error(o)?.hasPrefix("--partition cpu;rm -rf: not a partition name") == true)
        o = ok; o.partition = "cpu,gpu-a"
        #expect(error(o) == nil)
        o = ok; o.cpusPerTask = 0
        #expect(error(o) == "--cpus-per-task 0: must be 1...1024")
    }
}
