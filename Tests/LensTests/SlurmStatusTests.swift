import Testing
@testable import lens

/// `--status` reads `scontrol show job -o`; these lines are what Slurm 22.05 (Debian slurm-wlm) printed in
/// `make test-slurm`, cut after the fields read.
@Suite struct SlurmStatusTests {
    static let lines = """
        JobId=5 ArrayJobId=3 ArrayTaskId=1 JobName=lens-slow-train UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901759 Nice=0 Account=(null) QOS=(null) JobState=CANCELLED Reason=None Dependency=(null) Requeue=1 Restarts=0
        JobId=4 ArrayJobId=3 ArrayTaskId=0 JobName=lens-slow-train UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901759 Nice=0 Account=(null) QOS=(null) JobState=RUNNING Reason=None Dependency=(null) Requeue=1 Restarts=1
        JobId=3 ArrayJobId=3 ArrayTaskId=2-4,7%2 JobName=lens-slow-train UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901759 Nice=0 Account=(null) QOS=(null) JobState=PENDING Reason=Resources Dependency=(null) Requeue=1 Restarts=0
        JobId=9 JobName=lens-slow-report UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901759 Nice=0 Account=(null) QOS=(null) JobState=PENDING Reason=Dependency Dependency=afterok:8_*(unfulfilled) Requeue=1
        """

    @Test func arrayTasksTheirStatesAndNames() {
        let e = SlurmStatus.parse(Self.lines, id: "3")
        #expect(e.map(\.tasks) == [[1], [0], [2, 3, 4, 7], nil])
        #expect(e.map(\.state) == ["CANCELLED", "RUNNING", "PENDING", "PENDING"])
        #expect(e.map(\.id) == ["3_1", "3_0", "3", "3"])
        #expect(e[3].reason == "Dependency")
        #expect(SlurmStatus.ended.contains("CANCELLED") && !SlurmStatus.ended.contains("PENDING") && !SlurmStatus.ended.contains("REQUEUED"))
    }

    @Test func taskRanges() {
        #expect(SlurmStatus.parseTasks("0-3,7%2") == [0, 1, 2, 3, 7])
        #expect(SlurmStatus.parseTasks("12") == [12])
        #expect(SlurmStatus.parseTasks("") == [])
    }
}
