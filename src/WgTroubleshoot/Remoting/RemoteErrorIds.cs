namespace WgTroubleshoot.Remoting
{
    /// <summary>ErrorIds of remote diagnosis and repair (documented in about_WgTroubleshoot).</summary>
    public static class RemoteErrorIds
    {
        /// <summary>The other host could not be reached or the session could not be opened (ConnectionError).</summary>
        public const string RemoteUnreachable = ErrorIds.RemoteUnreachable;
        /// <summary>The other host answered with an error or with something that is not the module's answer (InvalidResult).</summary>
        public const string RemoteFailed = ErrorIds.RemoteFailed;
        /// <summary>SSH remoting needs PowerShell 7 (NotImplemented, on Windows PowerShell 5.1).</summary>
        public const string RemotingNotSupported = ErrorIds.RemotingNotSupported;
        /// <summary>A finding carries the name of another host and no session to it was given (InvalidArgument).</summary>
        public const string NoSessionForHost = ErrorIds.NoSessionForHost;
        /// <summary>The two ends could not be paired: no interface of the other host belongs to this one (ObjectNotFound).</summary>
        public const string PeerNotPaired = ErrorIds.PeerNotPaired;
    }
}
