namespace Registry.Core.Storage;

/// <summary>
/// The store itself failed (disk full, permissions, the object store unreachable): a server problem,
/// never the client's. The message is safe to show; the inner exception, with paths, is for the log.
/// </summary>
public sealed class ArtifactStoreException(string message, Exception innerException) : Exception(message, innerException);
