#!/bin/sh
echo "starting a long job"
sleep 60
echo "never printed"
