using System;

namespace WgTroubleshoot.Snapshot
{
    /// <summary>How a source fared: read, failed while reading, or not available on this host.</summary>
    public enum SourceState
    {
        /// <summary>Read; its facts are in the snapshot (possibly "nothing there", e.g. no config file).</summary>
        Ok,
        /// <summary>Tried and failed (a tool exited with an error, a file could not be read): its facts are unknown.</summary>
        Failed,
        /// <summary>Could not be tried (tool missing, no privilege): its facts are unknown.</summary>
        Unavailable,
        /// <summary>Not needed in this run (no capture needed, no -Deep): nothing was expected from it.</summary>
        Skipped,
    }

    /// <summary>What one source said. Checks that need a source that is Failed or Unavailable do not run; the diagnosis says so (CheckNotRun).</summary>
    public sealed class SourceStatus
    {
        /// <summary>The source's name (see <see cref="SourceNames"/>).</summary>
        public string Name { get; set; }
        /// <summary>The interface it was read for; null for a host-wide source.</summary>
        public string Interface { get; set; }
        /// <summary>Ok, Failed, Unavailable or Skipped (see <see cref="SourceState"/>).</summary>
        public string State { get; set; } = nameof(SourceState.Ok);
        /// <summary>The stable ErrorId of the failure (ToolNotInstalled, ToolFailed, PermissionDenied ...).</summary>
        public string ErrorId { get; set; }
        public string Message { get; set; }
        public double ElapsedMilliseconds { get; set; }

        /// <summary>True when the source's facts cannot be relied on (Failed or Unavailable).</summary>
        public bool IsUnknown => State == nameof(SourceState.Failed) || State == nameof(SourceState.Unavailable);

        public override string ToString()
            => $"{Name}{(Interface != null ? " (" + Interface + ")" : "")}: {State}{(Message != null ? ": " + Message : "")}";
    }

    /// <summary>The names of the built-in sources, for <see cref="Checks.ICheck.Needs"/>.</summary>
    public static class SourceNames
    {
        /// <summary>Live WireGuard state (two samples).</summary>
        public const string WgState = "wg";
        public const string Links = "links";
        public const string Routes = "routes";
        /// <summary>The whole netfilter state (every backend); per backend also "netfilter:&lt;backend&gt;".</summary>
        public const string Netfilter = "netfilter";
        public const string Sysctls = "sysctl";
        public const string Names = "dns";
        public const string Config = "config";
        public const string PeerConfig = "peer-config";
        public const string Capture = "capture";
        public const string Mtu = "mtu";
        /// <summary>-Deep: the TCP SYNs through the tunnel and their forward routes (MssClamp).</summary>
        public const string TcpSyn = Sources.TcpSynSource.SourceName;
        /// <summary>The routes to remote hosts inside local networks (LocalSubnetConflict).</summary>
        public const string SubnetRoutes = Sources.SubnetRouteSource.SourceName;
        /// <summary>Liveness and peer facts (Liveness/LivenessSources).</summary>
        public const string Probe = Liveness.LivenessSourceNames.Probe;
        public const string EndpointWatch = Liveness.LivenessSourceNames.EndpointWatch;
        public const string ListenPort = Liveness.LivenessSourceNames.ListenPort;
    }
}
