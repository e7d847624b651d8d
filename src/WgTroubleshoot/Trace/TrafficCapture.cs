using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using WgTroubleshoot.Native;

namespace WgTroubleshoot.Trace
{
    /// <summary>
    /// Runs tcpdump for a bounded time on the underlay (`-i any`, the interface's UDP listen port), reads its
    /// pcap stream as it arrives and feeds a <see cref="TrafficTracer"/>. The capture process ends when the
    /// time is up, when the token is cancelled, or when anything goes wrong, and never outlives this call.
    /// </summary>
    public sealed class TrafficCapture
    {
        /// <summary>How long tcpdump may take beyond the requested time before it is killed regardless.</summary>
        public static readonly TimeSpan Margin = TimeSpan.FromSeconds(3);
        /// <summary>How long tcpdump may take to open the capture.</summary>
        public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(5);
        /// <summary>Bytes kept of each packet: enough for the link, IP and UDP headers and the message type.</summary>
        public const int SnapLength = 256;

        private readonly INativeRunner _runner;

        public TrafficCapture(INativeRunner runner)
        {
            _runner = runner;
        }

        /// <summary>
        /// tcpdump's arguments: every interface (the underlay is whatever routes to the peers), no name lookups,
        /// a packet-buffered pcap stream on stdout, short snapshots, only the listen port. `-Z root` keeps tcpdump
        /// from changing its user, which would cancel the kill-with-parent guarantee; it only writes raw packets.
        /// </summary>
        public static List<string> TcpdumpArguments(int listenPort)
            => new List<string> { "-i", "any", "-n", "-U", "-s", SnapLength.ToString(CultureInfo.InvariantCulture), "-Z", "root", "-w", "-",
                                  "udp port " + listenPort.ToString(CultureInfo.InvariantCulture) };

        /// <summary>
        /// Captures for <paramref name="duration"/> (less when cancelled) and returns the judged results.
        /// <paramref name="progress"/> is called on the calling thread about four times a second with the
        /// elapsed time and the packet count; <paramref name="started"/> once with tcpdump's PID.
        /// </summary>
        public List<TrafficTrace> Run(TrafficTracer tracer, TimeSpan duration, CancellationToken cancel,
            Action<TimeSpan, int> progress = null, Action<int> started = null)
        {
            var args = TcpdumpArguments(tracer.ListenPort);
            using (var proc = _runner.Start("tcpdump", args, duration + StartTimeout + Margin))
            {
                started?.Invoke(proc.Id);
                var reader = new PcapReader(proc.StandardOutput);
                var headerSeen = new ManualResetEventSlim();
                Exception readError = null;
                var readerDone = new ManualResetEventSlim();
                var thread = new Thread(() =>
                {
                    try
                    {
                        if (!reader.ReadHeader()) return;
                        headerSeen.Set();
                        PcapPacket p;
                        while ((p = reader.ReadPacket()) != null)
                            tracer.Add(PacketDecoder.Decode(p));
                    }
                    catch (Exception ex) when (ex is InvalidDataException || ex is IOException || ex is ObjectDisposedException)
                    {
                        readError = ex;
                    }
                    finally
                    {
                        readerDone.Set();
                    }
                })
                { IsBackground = true, Name = "tcpdump pcap reader" };
                thread.Start();

                // tcpdump writes the pcap header once the capture is open: the window starts there.
                var startWait = Stopwatch.StartNew();
                while (!headerSeen.IsSet && !readerDone.IsSet && !cancel.IsCancellationRequested && startWait.Elapsed < StartTimeout)
                    WaitHandle.WaitAny(new[] { headerSeen.WaitHandle, readerDone.WaitHandle, cancel.WaitHandle }, 100);
                if (!headerSeen.IsSet)
                {
                    if (cancel.IsCancellationRequested) return tracer.Results(TimeSpan.Zero);
                    proc.Stop();
                    readerDone.Wait(2000);
                    throw Failure(proc, readError, "did not start capturing within " + StartTimeout.TotalSeconds + " s");
                }

                var window = Stopwatch.StartNew();
                while (window.Elapsed < duration && !cancel.IsCancellationRequested && !readerDone.IsSet)
                {
                    progress?.Invoke(window.Elapsed, tracer.PacketCount);
                    var left = duration - window.Elapsed;
                    var step = left < TimeSpan.FromMilliseconds(250) ? left : TimeSpan.FromMilliseconds(250);
                    if (step > TimeSpan.Zero) WaitHandle.WaitAny(new[] { cancel.WaitHandle, readerDone.WaitHandle }, step);
                }
                var elapsed = window.Elapsed;
                bool endedEarly = readerDone.IsSet && elapsed < duration && !cancel.IsCancellationRequested;
                proc.Stop();
                readerDone.Wait(2000);
                if (endedEarly && !proc.ReachedLifetime)
                    throw Failure(proc, readError, "stopped capturing after " + elapsed.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture) + " s");
                progress?.Invoke(elapsed, tracer.PacketCount);
                return tracer.Results(elapsed);
            }
        }

        private static WgException Failure(NativeProcess proc, Exception readError, string what)
        {
            var lines = proc.StandardError.Split('\n').Select(l => l.Trim())
                .Where(l => l.Length > 0 && !l.StartsWith("listening on", StringComparison.Ordinal)
                            && !l.StartsWith("tcpdump: data link type", StringComparison.Ordinal)
                            && !l.EndsWith("packets captured", StringComparison.Ordinal)
                            && !l.EndsWith("received by filter", StringComparison.Ordinal)
                            && !l.EndsWith("dropped by kernel", StringComparison.Ordinal)).ToList();
            var first = lines.FirstOrDefault() ?? readError?.Message ?? (proc.ExitCode.HasValue ? "exit code " + proc.ExitCode.Value : "no message");
            // tcpdump itself could not be executed (not executable, not a binary for this machine): exec's
            // own failure, reported by setpriv or a shell with 126/127, is not a capture permission problem.
            if (NativeRunner.IsExecFailure(proc.StandardError, proc.ExitCode))
                return new WgException(ErrorIds.ToolNotInstalled, ErrorCategory.NotInstalled,
                    $"tcpdump cannot be executed: '{proc.CommandLine}' said: {first}. Check that the tcpdump binary is an executable for this machine (ls -l $(command -v tcpdump)) or reinstall it (Debian/Ubuntu: apt-get install tcpdump).", proc.CommandLine);
            if (NativeRunner.IsPermissionProblem(proc.StandardError) || first.IndexOf("permission", StringComparison.OrdinalIgnoreCase) >= 0)
                return new WgException(ErrorIds.PermissionDenied, ErrorCategory.PermissionDenied,
                    Config.UnixFile.EffectiveUid == 0 && !Config.UnixFile.IsWindows
                        ? $"tcpdump was refused permission to capture although this runs as root (a security module such as AppArmor or SELinux, or a missing capability?): '{proc.CommandLine}' said: {first}"
                        : $"Capturing packets needs root: '{proc.CommandLine}' said: {first}", proc.CommandLine);
            return new WgException(ErrorIds.ToolFailed, ErrorCategory.InvalidResult,
                $"The capture failed: '{proc.CommandLine}' {what}: {first}", proc.CommandLine, readError);
        }
    }
}
