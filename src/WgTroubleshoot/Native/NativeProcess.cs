using System;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading;

namespace WgTroubleshoot.Native
{
    /// <summary>
    /// A long-running native tool started by <see cref="INativeRunner.Start"/>: its standard output is a byte
    /// stream read while it runs, its standard error is collected (capped). It is killed when its lifetime
    /// runs out, on <see cref="Stop"/> and on <see cref="Dispose"/>, so it never outlives its owner.
    /// </summary>
    public sealed class NativeProcess : IDisposable
    {
        private const int MaxStdErr = 64 * 1024;

        private readonly Process _process;
        private readonly Action<string> _log;
        private readonly StringBuilder _stderr = new StringBuilder();
        private readonly ManualResetEventSlim _stderrDone = new ManualResetEventSlim();
        private readonly Timer _lifetime;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly object _gate = new object();
        private bool _stopped;
        private bool _disposed;

        internal NativeProcess(Process process, string tool, string commandLine, TimeSpan maxLifetime, Action<string> log)
        {
            _process = process;
            _log = log;
            Tool = tool;
            CommandLine = commandLine;
            Id = process.Id;
            MaxLifetime = maxLifetime;
            try { process.StandardInput.Close(); } catch (IOException) { }
            process.ErrorDataReceived += (s, e) =>
            {
                if (e.Data == null) { _stderrDone.Set(); return; }
                lock (_stderr) if (_stderr.Length < MaxStdErr) _stderr.Append(e.Data).Append('\n');
            };
            process.BeginErrorReadLine();
            _lifetime = new Timer(_ => Expire(), null, maxLifetime, Timeout.InfiniteTimeSpan);
        }

        public string Tool { get; }
        /// <summary>The command line as logged.</summary>
        public string CommandLine { get; }
        /// <summary>The tool's process id.</summary>
        public int Id { get; }
        public TimeSpan MaxLifetime { get; }
        /// <summary>The tool's standard output as raw bytes.</summary>
        public Stream StandardOutput => _process.StandardOutput.BaseStream;
        /// <summary>True when the lifetime ran out and the tool was killed for it.</summary>
        public bool ReachedLifetime { get; private set; }

        /// <summary>What the tool wrote to standard error so far (first 64 KiB).</summary>
        public string StandardError
        {
            get { lock (_stderr) return _stderr.ToString(); }
        }

        public bool HasExited
        {
            get
            {
                try { return _process.HasExited; }
                catch (InvalidOperationException) { return true; }
            }
        }

        /// <summary>The exit code once the tool has exited, else null.</summary>
        public int? ExitCode => HasExited ? _process.ExitCode : (int?)null;

        /// <summary>Waits for the tool to exit by itself; true when it did.</summary>
        public bool WaitForExit(TimeSpan timeout)
        {
            if (!_process.WaitForExit((int)Math.Max(0, Math.Min(int.MaxValue, timeout.TotalMilliseconds)))) return false;
            _process.WaitForExit(); // flushes the asynchronous stderr reader
            _stderrDone.Wait(1000);
            return true;
        }

        private void Expire()
        {
            // Runs on a timer thread: serialized with Stop and Dispose, and never throws.
            try
            {
                lock (_gate)
                {
                    if (_stopped || _disposed || HasExited) return;
                    ReachedLifetime = true;
                    _log?.Invoke($"'{Tool}' (PID {Id}) reached its time limit of {MaxLifetime.TotalSeconds:0.#} s and is stopped.");
                    StopLocked();
                }
            }
            catch (Exception ex) when (ex is ObjectDisposedException || ex is InvalidOperationException)
            {
            }
        }

        /// <summary>Kills the tool if it still runs and waits (bounded) until it is gone. Idempotent.</summary>
        public void Stop()
        {
            lock (_gate)
            {
                if (_disposed) return;
                StopLocked();
            }
        }

        private void StopLocked()
        {
            if (_stopped) return;
            _stopped = true;
            if (!HasExited)
            {
                try { _process.Kill(); } catch (InvalidOperationException) { } catch (System.ComponentModel.Win32Exception) { }
            }
            WaitForExit(TimeSpan.FromSeconds(5));
            int? code = HasExited ? _process.ExitCode : (int?)null;
            _log?.Invoke($"'{Tool}' (PID {Id}) ended after {_clock.ElapsedMilliseconds} ms" + (code.HasValue ? $" with {code.Value}." : " (still running after the kill?)."));
        }

        public void Dispose()
        {
            lock (_gate)
            {
                if (_disposed) return;
                _lifetime.Dispose();
                StopLocked();
                _disposed = true;
                _process.Dispose();
                _stderrDone.Dispose();
            }
        }
    }
}
