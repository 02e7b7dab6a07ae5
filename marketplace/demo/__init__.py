"""The demo territory: fictional companies of a port-industrial area, loaded by `symbiose demo`."""
