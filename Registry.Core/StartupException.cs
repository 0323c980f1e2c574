namespace Registry.Core;

/// <summary>
/// The server cannot start as configured (a bad setting, an unreachable database, a missing bucket).
/// The message says what to fix and never holds a secret; the program prints it and exits.
/// </summary>
public sealed class StartupException(string message, Exception? innerException = null) : Exception(message, innerException);
