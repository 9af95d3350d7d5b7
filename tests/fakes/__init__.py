"""Local stand-ins for services that live outside this machine, speaking their real protocols."""
